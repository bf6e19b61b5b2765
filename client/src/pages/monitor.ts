import { mountShell } from '../ui/shell';

mountShell({ title: { vi: 'Giám sát kết nối', en: 'Connection monitor' } });
