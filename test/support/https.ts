import https from 'node:https';

/** POST JSON over https trusting `ca` (fetch cannot be given a CA), parsed JSON back. */
export function postJson(url: string, ca: Buffer, key: string, body: unknown): Promise<any> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: 'POST', ca, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } }, (res) => {
      let data = '';
      res.on('data', (d) => (data += d));
      res.on('end', () => resolve(JSON.parse(data)));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}
