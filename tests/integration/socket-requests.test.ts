// The request/ack layer every namespace uses, over a real Socket.IO server and client.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { Server } from 'socket.io';
import { io as connect, type Socket as ClientSocket } from 'socket.io-client';
import { z } from 'zod';
import { defineRequests } from '../../server/contract/socket';
import { AppError } from '../../server/errors';
import { bindRequests, deferHandlers, type Handlers } from '../../server/realtime/requests';
import { requester, RequestError, type RequestSocket } from '../../client/src/net/request';

const requests = defineRequests({
  echo: { input: z.object({ text: z.string().max(10) }).strict(), output: z.object({ text: z.string() }) },
  refuse: { input: z.object({}).optional(), output: z.object({}) },
  crash: { input: z.object({}).optional(), output: z.object({}) },
  lie: { input: z.object({}).optional(), output: z.object({ n: z.number() }) },
});

/** The test's plain client socket, typed as a page's socket for these requests. */
const typed = (socket: ClientSocket): RequestSocket<typeof requests> => socket;

describe('socket requests (real socket.io)', () => {
  let server: http.Server;
  let io: Server;
  let client: ClientSocket;
  let url: string;
  let state: string[];

  beforeAll(async () => {
    server = http.createServer();
    io = new Server(server);
    io.on('connection', (socket) => {
      bindRequests(
        socket,
        requests,
        {
          echo: ({ text }) => {
            state.push(text);
            return { text };
          },
          refuse: () => {
            throw new AppError('forbidden', 'not yours');
          },
          crash: () => {
            throw new Error('secret internal detail');
          },
          lie: () => ({ n: 'not a number' }) as unknown as { n: number },
        },
        {},
        pino({ level: 'silent' }),
        { perSecond: 5, burst: 5, disconnectAfter: 20 },
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  beforeEach(async () => {
    state = [];
    client = connect(url, { transports: ['websocket'], reconnection: false });
    await new Promise((r) => client.once('connect', () => r(undefined)));
  });
  afterEach(() => client.close());
  afterAll(async () => {
    io.close();
    await new Promise((r) => server.close(r));
  });

  test('valid input reaches the handler and the answer comes back', async () => {
    const request = requester(typed(client));
    await expect(request('echo', { text: 'xin chào' })).resolves.toEqual({ text: 'xin chào' });
    expect(state).toEqual(['xin chào']);
  });

  test.each([
    ['wrong type', { text: 42 }],
    ['too long', { text: 'x'.repeat(11) }],
    ['extra field', { text: 'a', admin: true }],
    ['not an object', 'hello'],
    ['missing', undefined],
  ])('%s is refused with bad_request and never reaches the handler', async (_name, payload) => {
    const res = await client.timeout(2000).emitWithAck('echo', payload);
    expect(res.ok).toBe(false);
    expect(res.error.code).toBe('bad_request');
    expect(state).toEqual([]);
  });

  test('an AppError keeps its code; an unexpected error becomes internal without detail', async () => {
    const request = requester(typed(client));
    await expect(request('refuse', {})).rejects.toMatchObject({ code: 'forbidden', message: 'not yours' });
    const err = await request('crash', {}).catch((e: RequestError) => e);
    expect(err).toBeInstanceOf(RequestError);
    expect((err as RequestError).code).toBe('internal');
    expect((err as RequestError).message).not.toMatch(/secret/);
    await expect(request('lie', {})).rejects.toMatchObject({ code: 'internal' });
  });

  test('a flood is rate-limited, then disconnected', async () => {
    const answers = await Promise.all(
      Array.from({ length: 15 }, (_, i) => client.timeout(2000).emitWithAck('echo', { text: String(i) })),
    );
    expect(answers.filter((a) => a.ok)).toHaveLength(5);
    expect(answers.filter((a) => !a.ok).every((a) => a.error.code === 'rate_limited')).toBe(true);
    const disconnected = new Promise((r) => client.once('disconnect', r));
    for (let i = 0; i < 30; i++) client.emit('echo', { text: 'x' }, () => undefined);
    await disconnected;
  });
});

describe('handlers that become ready later', () => {
  test('a request sent at once after connecting waits for them instead of being dropped', async () => {
    const server = http.createServer();
    const io = new Server(server);
    io.on('connection', (socket) => {
      const ready = new Promise<Handlers<typeof requests, object>>((resolve) =>
        setTimeout(
          () =>
            resolve({
              echo: ({ text }) => ({ text: `late ${text}` }),
              refuse: () => ({}),
              crash: () => ({}),
              lie: () => ({ n: 1 }),
            }),
          300,
        ),
      );
      bindRequests(socket, requests, deferHandlers(requests, ready), {}, pino({ level: 'silent' }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const client = connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { transports: ['websocket'] });
    await new Promise((r) => client.once('connect', () => r(undefined)));
    await expect(requester(typed(client))('echo', { text: 'sớm' })).resolves.toEqual({ text: 'late sớm' });
    client.close();
    io.close();
    await new Promise((r) => server.close(r));
  });
});
