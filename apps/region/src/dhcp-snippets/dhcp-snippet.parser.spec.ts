import { mergeSnippetOptions, parseDhcpSnippet } from './dhcp-snippet.parser';

describe('parseDhcpSnippet', () => {
  it('turns the supported dhcpd options into the DHCP options Kiln sends', () => {
    expect(
      parseDhcpSnippet(`# lab settings
option domain-search "lab.example", "example.com";
option ntp-servers 10.0.0.1, 10.0.0.2;  option domain-name "lab.example";
option domain-name-servers 10.0.0.53;
option routers 10.0.0.1; option interface-mtu 9000;`),
    ).toEqual({
      ok: true,
      options: {
        domainSearch: ['lab.example', 'example.com'],
        ntpServers: ['10.0.0.1', '10.0.0.2'],
        domainName: 'lab.example',
        dnsServers: ['10.0.0.53'],
        routers: ['10.0.0.1'],
        interfaceMtu: 9000,
      },
    });
  });

  it('refuses statements it cannot apply, naming them', () => {
    const r = parseDhcpSnippet('option ntp-servers 10.0.0.1;\nfilename "pxelinux.0";');
    expect(r).toEqual({ ok: false, error: expect.stringContaining(`cannot apply 'filename "pxelinux.0"'`) });
    expect(parseDhcpSnippet('host foo { hardware ethernet 00:11:22:33:44:55; }')).toMatchObject({ ok: false });
    expect(parseDhcpSnippet('option tftp-server-name "x";')).toEqual({ ok: false, error: expect.stringContaining("'option tftp-server-name \"x\"'") });
    expect(parseDhcpSnippet('option ntp-servers ntp.example;')).toEqual({ ok: false, error: "Invalid value in 'option ntp-servers ntp.example'." });
    expect(parseDhcpSnippet('option domain-search lab.example;')).toMatchObject({ ok: false });
    expect(parseDhcpSnippet('option interface-mtu 9000')).toEqual({ ok: false, error: "Statement 'option interface-mtu 9000' is not terminated with ';'." });
    expect(parseDhcpSnippet('# only a comment\n')).toMatchObject({ ok: false });
    // A ';' inside quotes does not end the statement.
    expect(parseDhcpSnippet('option domain-name "a;b";')).toMatchObject({ ok: false, error: expect.stringContaining('Invalid value') });
  });

  it('merges global then subnet snippets, the later value winning', () => {
    expect(mergeSnippetOptions(['option ntp-servers 10.0.0.1; option domain-name "a.example";', 'option ntp-servers 10.0.0.2;', 'bad'])).toEqual({
      ntpServers: ['10.0.0.2'],
      domainName: 'a.example',
    });
    expect(parseDhcpSnippet('option interface-mtu 500;')).toMatchObject({ ok: false });
    const long = Array.from({ length: 30 }, (_, i) => `"name${i}.example.com"`).join(', ');
    expect(parseDhcpSnippet(`option domain-search ${long};`)).toMatchObject({ ok: false });
  });
});
