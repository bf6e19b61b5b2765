// The start-up probe of tied children: on this Linux (util-linux setpriv on the PATH)
// children can be tied and nothing is said; with no setpriv to be found the probe says
// once that they may outlive a killed server, and the spawns after it say nothing more.
import type * as TiedSpawn from '../../server/platform/tied-spawn';

function fresh(): typeof TiedSpawn {
  let mod: typeof TiedSpawn | undefined;
  jest.isolateModules(() => {
    mod = jest.requireActual<typeof TiedSpawn>('../../server/platform/tied-spawn');
  });
  return mod!;
}

const PATH = process.env.PATH;
afterEach(() => {
  process.env.PATH = PATH;
});

test('setpriv found: the probe says children are tied, and warns of nothing', () => {
  const warn = jest.fn();
  const m = fresh();
  expect(m.checkChildTies({ warn })).toBe(process.platform === 'linux');
  if (process.platform === 'linux') expect(warn).not.toHaveBeenCalled();
});

test('no setpriv: the probe warns once, at start-up, and the spawns after it stay quiet', async () => {
  process.env.PATH = '/nonexistent-for-the-probe';
  const warn = jest.fn();
  const m = fresh();
  expect(m.checkChildTies({ warn })).toBe(false);
  expect(warn).toHaveBeenCalledTimes(1);
  expect(warn.mock.calls[0]![1]).toMatch(/may outlive a server that is killed/);
  const child = m.tiedSpawn(process.execPath, ['-e', ''], { stdio: 'ignore', log: { warn } });
  await new Promise((resolve) => child.on('exit', resolve));
  expect(warn).toHaveBeenCalledTimes(1);
});
