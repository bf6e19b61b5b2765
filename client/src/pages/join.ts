import { mountShell } from '../ui/shell';

mountShell({ title: { vi: 'Điểm cầu', en: 'Connection point' } });
