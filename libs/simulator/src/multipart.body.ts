import { randomBytes } from 'node:crypto';

/**
 * A multipart/form-data body laid out as Kiln's runner writes it: the fields first, then each file
 * part as `form-data; name="<f>"; filename="<f>"` with Content-Type application/octet-stream.
 */
export function multipartBody(
  fields: readonly (readonly [string, string])[],
  files: readonly (readonly [string, Uint8Array])[],
  boundary = `----kiln-${randomBytes(16).toString('hex')}`,
): { body: Buffer; contentType: string } {
  const chunks: Buffer[] = [];
  for (const [name, value] of fields) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n`));
    chunks.push(Buffer.from(value, 'utf8'), Buffer.from('\r\n'));
  }
  for (const [name, data] of files) {
    chunks.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${name}"\r\nContent-Type: application/octet-stream\r\n\r\n`),
    );
    chunks.push(Buffer.from(data), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}
