import { mountShell } from '../ui/shell';

mountShell({ title: { vi: 'Bàn điều khiển chủ trì', en: 'Host console' } });
