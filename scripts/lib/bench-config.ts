// The configuration of a benchmark's in-process server: everything on loopback, ports
// chosen by the system, warnings only, data under the run's temporary folder, the
// benchmark's admin account; `extra` adds or overrides settings.
import { loadConfig } from '../../server/config';

export function benchConfig(
  dataDir: string,
  admin: { username: string; password: string },
  extra: Record<string, string> = {},
): ReturnType<typeof loadConfig> {
  return loadConfig({
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: '0',
    RTC_LISTEN_IP: '127.0.0.1',
    RTC_PORT: '0',
    LOG_LEVEL: 'warn',
    DATA_DIR: dataDir,
    ADMIN_USERNAME: admin.username,
    ADMIN_PASSWORD: admin.password,
    ...extra,
  });
}
