// The reference event (18 January 2022): the Hà Tĩnh provincial Party committee's online
// conference, as the provincial newspaper reported it. Four resolutions presented in turn,
// then the conclusion, given by the standing deputy secretary Trần Thế Dũng. Used by the
// demo (scripts/demo.ts) and the tests' briefings.
import type { AgendaItemInput } from '../contract/api';

/** The report's headline. */
export const REFERENCE_TITLE =
  'Xây dựng chương trình, kế hoạch thực hiện các nghị quyết của Tỉnh ủy Hà Tĩnh cụ thể, sát thực tiễn';

export const REFERENCE_AGENDA: (AgendaItemInput & { speaker: string; role: string; plannedMinutes: number })[] = [
  {
    title: 'Quán triệt Nghị quyết 05-NQ/TU về chuyển đổi số',
    speaker: 'Lê Ngọc Châu',
    role: 'Phó Chủ tịch UBND tỉnh',
    plannedMinutes: 30,
  },
  {
    title: 'Quán triệt Nghị quyết 06-NQ/TU về tích tụ ruộng đất',
    speaker: 'Đặng Ngọc Sơn',
    role: 'Phó Chủ tịch UBND tỉnh',
    plannedMinutes: 30,
  },
  {
    title: 'Quán triệt Nghị quyết 08-NQ/TU về phát triển doanh nghiệp',
    speaker: 'Nguyễn Hồng Lĩnh',
    role: 'Phó Chủ tịch Thường trực UBND tỉnh',
    plannedMinutes: 25,
  },
  {
    title: 'Quán triệt Nghị quyết 09-NQ/TU về Khu Kinh tế Vũng Áng',
    speaker: 'Nguyễn Hồng Lĩnh',
    role: 'Phó Chủ tịch Thường trực UBND tỉnh',
    plannedMinutes: 25,
  },
  {
    title: 'Phát biểu kết luận hội nghị',
    speaker: 'Trần Thế Dũng',
    role: 'Phó Bí thư Thường trực Tỉnh ủy',
    plannedMinutes: 20,
  },
];
