import { loadRunnerScript, renderUserData, renderUserDataScript } from './user-data.renderer';

const credentials = { consumerKey: 'ck', tokenKey: 'tk', tokenSecret: 'ts' };
const runner = '#!/usr/bin/env python3\nprint("hi")\n';

describe('renderUserData', () => {
  it('wraps the script as the one text/x-shellscript part named user_data.sh', () => {
    const ud = renderUserData({ metadataUrl: 'http://10.0.0.2:5248/MAAS/metadata/', credentials, phase: 'commissioning', runner });
    expect(ud).toMatch(/^Content-Type: multipart\/mixed; boundary="([^"]+)"\nMIME-Version: 1\.0\n\n--\1\nContent-Type: text\/x-shellscript; charset="utf-8"\n/);
    expect(ud).toContain('Content-Disposition: attachment; filename="user_data.sh"');
    const body = ud.split('\n\n')[2]?.split('\n--')[0] ?? '';
    const script = Buffer.from(body.replace(/\n/g, ''), 'base64').toString('utf8');
    expect(script).toBe(renderUserDataScript({ metadataUrl: 'http://10.0.0.2:5248/MAAS/metadata/', credentials, phase: 'commissioning', runner }));
    // Same input, same bytes.
    expect(renderUserData({ metadataUrl: 'http://10.0.0.2:5248/MAAS/metadata/', credentials, phase: 'commissioning', runner })).toBe(ud);
  });

  it('embeds the datasource config and the runner, and names the phase', () => {
    const sh = renderUserDataScript({ metadataUrl: 'http://r/MAAS/metadata/', credentials, phase: 'testing', runner, heartbeatIntervalSeconds: 60 });
    expect(sh).toContain('{"datasource":{"MAAS":{"metadata_url":"http://r/MAAS/metadata/","consumer_key":"ck","token_key":"tk","token_secret":"ts"}}}');
    expect(sh).toContain('print("hi")\nKILN_RUNNER_EOF\n');
    expect(sh).toContain('--phase=testing --heartbeat-interval=60 ');
    const enlist = renderUserDataScript({ metadataUrl: 'http://r/MAAS/metadata/', phase: 'enlistment', runner });
    expect(enlist).toContain('{"datasource":{"MAAS":{"metadata_url":"http://r/MAAS/metadata/"}}}');
  });

  it('refuses inputs that would break the script', () => {
    const base = { metadataUrl: 'http://r/MAAS/metadata/', credentials, phase: 'testing' as const, runner };
    expect(() => renderUserDataScript({ ...base, metadataUrl: 'http://r/$(reboot)' })).toThrow(/metadataUrl/);
    expect(() => renderUserDataScript({ ...base, credentials: { ...credentials, tokenSecret: "a'b" } })).toThrow(/tokenSecret/);
    expect(() => renderUserDataScript({ ...base, runner: 'x\nKILN_RUNNER_EOF\ny' })).toThrow(/delimiter/);
    expect(() => renderUserDataScript({ ...base, phase: 'enlistment' })).toThrow(/enlistment/);
    expect(() => renderUserDataScript({ metadataUrl: 'http://r/', phase: 'testing', runner })).toThrow(/enlistment/);
  });

  it('loads the runner shipped with the library', () => {
    expect(loadRunnerScript()).toMatch(/^#!\/usr\/bin\/env python3\n/);
  });
});
