// The local certificate authority's page (/ca) and file (/ca.crt): what a point's
// technician opens before the briefing, over plain HTTP too (before the CA is trusted,
// HTTPS shows a warning), to install the CA and check its fingerprint against the one
// the central desk read out from the server's start-up lines.
import fs from 'node:fs';
import type http from 'node:http';
import { Router } from 'express';

export interface CaPage {
  router: Router;
  /** For the plain-HTTP side of the front door: true when it answered. */
  plain: (req: http.IncomingMessage, res: http.ServerResponse) => boolean;
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function html(fingerprint: string, publicUrl: string): string {
  return `<!doctype html>
<html lang="vi">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Chứng chỉ máy chủ hội nghị · The briefing server's certificate</title>
    <link rel="stylesheet" href="/assets/app.css" />
  </head>
  <body>
    <main class="ca-page">
      <h1>Cài chứng chỉ của máy chủ hội nghị <small>· Install the briefing server's certificate</small></h1>
      <p>Làm một lần trên mỗi máy của điểm cầu, trước hội nghị. <small>· Once on each point's computer, before the briefing.</small></p>
      <ol>
        <li><a href="/ca.crt" download="briefing-ca.crt" data-testid="ca-download">Tải chứng chỉ (briefing-ca.crt)</a> <small>· Download the certificate</small></li>
        <li>So dấu vân tay với dấu vân tay kỹ thuật trung tâm đọc cho bạn: <small>· Check its fingerprint against the one the central desk reads to you:</small>
          <pre data-testid="ca-fingerprint">SHA-256 ${escape(fingerprint)}</pre></li>
        <li>Windows: mở tệp, <em>Install Certificate</em> → <em>Local Machine</em> → <em>Trusted Root Certification Authorities</em>.
          Chrome/Edge trên Linux: <em>Settings → Privacy and security → Security → Manage certificates → Authorities → Import</em>, chọn “Trust this certificate for identifying websites”.
          Firefox: <em>Settings → Privacy &amp; Security → Certificates → View Certificates → Authorities → Import</em>.</li>
        <li>Khởi động lại trình duyệt rồi mở đường dẫn của điểm cầu. <small>· Restart the browser, then open the point's link:</small>
          <a href="${escape(publicUrl)}">${escape(publicUrl)}</a></li>
      </ol>
    </main>
  </body>
</html>
`;
}

/**
 * Where a technician opens the page before the CA is trusted: plain HTTP on
 * HTTP_REDIRECT_PORT when there is one, else on PUBLIC_URL's own port, where the front
 * door answers plain HTTP beside TLS (server/net/listener.ts).
 */
export function plainCaUrl(publicUrl: string, redirectPort: number | undefined): string {
  const url = new URL(publicUrl);
  const port = redirectPort ?? (url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80);
  return `http://${url.hostname}${port === 80 ? '' : `:${port}`}/ca`;
}

export function caPage(caFile: string, fingerprint: string, publicUrl: string): CaPage {
  const page = html(fingerprint, publicUrl);
  const sendCert = (res: { setHeader(k: string, v: string): unknown; end(b: Buffer): unknown }) => {
    res.setHeader('Content-Type', 'application/x-x509-ca-cert');
    res.setHeader('Content-Disposition', 'attachment; filename="briefing-ca.crt"');
    res.setHeader('Cache-Control', 'no-store');
    res.end(fs.readFileSync(caFile));
  };
  const router = Router();
  router.get('/ca', (_req, res) => {
    res.set('Cache-Control', 'no-store').type('html').send(page);
  });
  router.get('/ca.crt', (_req, res) => sendCert(res));
  const plain = (req: http.IncomingMessage, res: http.ServerResponse): boolean => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    if (path === '/ca') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(page);
      return true;
    }
    if (path === '/ca.crt') {
      sendCert(res);
      return true;
    }
    return false;
  };
  return { router, plain };
}
