import { applyBootSourceInput, applyBootSourceSelectionInput } from './boot-source.form';

const EMPTY = { url: '', keyringFilename: '', keyringData: Buffer.alloc(0) };
const SELECTION = { os: '', release: '', arches: ['*'], subarches: ['*'], labels: ['*'] };
const errors = (r: { ok: boolean; errors?: Record<string, string[]> }) => (r.ok ? {} : r.errors);

describe('applyBootSourceInput', () => {
  it('accepts http, https and file URLs with one keyring', () => {
    for (const url of ['http://a.example/x/', 'https://a.example:8443/streams/v1/', 'file:///srv/images/', 'HTTP://A.EXAMPLE/']) {
      expect(applyBootSourceInput(EMPTY, { url, keyring_filename: '/k.gpg' })).toEqual({ ok: true, fields: { url, keyringFilename: '/k.gpg', keyringData: Buffer.alloc(0) } });
    }
  });

  it('decodes base64 keyring data and takes uploaded bytes as they are', () => {
    const bytes = Buffer.from([0, 1, 2, 250]);
    const b64 = applyBootSourceInput(EMPTY, { url: 'http://a.example/', keyring_data: bytes.toString('base64') });
    expect(b64.ok && b64.fields.keyringData).toEqual(bytes);
    const raw = applyBootSourceInput(EMPTY, { url: 'http://a.example/', keyring_data: bytes });
    expect(raw.ok && raw.fields.keyringData).toEqual(bytes);
  });

  it("refuses what MAAS's form refuses, naming the field", () => {
    expect(errors(applyBootSourceInput(EMPTY, { keyring_filename: '/k' }))).toEqual({ url: ['This field is required.'] });
    expect(errors(applyBootSourceInput(EMPTY, { url: 'gopher://a.example/', keyring_filename: '/k' }))).toEqual({ url: ['Enter a valid URL.'] });
    expect(Object.keys(errors(applyBootSourceInput(EMPTY, { url: `http://a.example/${'x'.repeat(200)}`, keyring_filename: '/k' })) ?? {})).toEqual(['url']);
    expect(errors(applyBootSourceInput(EMPTY, { url: 'http://a.example/' }))).toEqual({ __all__: ['One of keyring_data or keyring_filename must be specified.'] });
    expect(errors(applyBootSourceInput(EMPTY, { url: 'http://a.example/', keyring_filename: '/k', keyring_data: 'aw==' }))).toEqual({
      __all__: ['Only one of keyring_filename or keyring_data can be specified.'],
    });
    expect(Object.keys(errors(applyBootSourceInput(EMPTY, { url: 'http://a.example/', keyring_data: 'abc' })) ?? {})).toEqual(['keyring_data']);
    expect(Object.keys(errors(applyBootSourceInput(EMPTY, { url: 'http://a.example/', keyring_filename: '/k\u0000' })) ?? {})).toEqual(['keyring_filename']);
  });

  it('keeps what an update does not send', () => {
    const base = { url: 'http://a.example/', keyringFilename: '/k.gpg', keyringData: Buffer.alloc(0) };
    expect(applyBootSourceInput(base, { url: 'http://b.example/' })).toEqual({ ok: true, fields: { ...base, url: 'http://b.example/' } });
  });
});

describe('applyBootSourceSelectionInput', () => {
  it("defaults arches, subarches and labels to MAAS's '*' and splits lists", () => {
    expect(applyBootSourceSelectionInput(SELECTION, { os: 'ubuntu', release: 'noble' })).toEqual({ ok: true, fields: { ...SELECTION, os: 'ubuntu', release: 'noble' } });
    const r = applyBootSourceSelectionInput(SELECTION, { os: 'ubuntu', release: 'noble', arches: ['amd64,arm64', 'ppc64el'], labels: [''] });
    expect(r.ok && r.fields).toMatchObject({ arches: ['amd64', 'arm64', 'ppc64el'], labels: ['*'] });
  });

  it('requires os and release and refuses bad entries', () => {
    expect(errors(applyBootSourceSelectionInput(SELECTION, {}))).toEqual({ os: ['This field is required.'], release: ['This field is required.'] });
    expect(Object.keys(errors(applyBootSourceSelectionInput(SELECTION, { os: 'ubuntu', release: 'a'.repeat(21) })) ?? {})).toEqual(['release']);
    expect(Object.keys(errors(applyBootSourceSelectionInput(SELECTION, { os: 'ubu ntu', release: 'noble' })) ?? {})).toEqual(['os']);
    expect(Object.keys(errors(applyBootSourceSelectionInput(SELECTION, { os: 'ubuntu', release: 'noble', arches: ['amd\u000164'] })) ?? {})).toEqual(['arches']);
  });
});
