import { startHostApp } from '../host/app';
import { mountShell } from '../ui/shell';

const main = mountShell({ title: { vi: 'Bàn điều khiển chủ trì', en: 'Host console' } });
void startHostApp(main);
