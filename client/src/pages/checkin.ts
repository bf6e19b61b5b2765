import { mountShell } from '../ui/shell';

mountShell({ title: { vi: 'Điểm danh đại biểu', en: 'Delegate check-in' } });
