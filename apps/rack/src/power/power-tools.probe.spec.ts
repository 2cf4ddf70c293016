import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { probePowerTools } from './power-tools.probe';

describe('power tools probe', () => {
  const dirs: string[] = [];
  const binDir = (...programs: string[]) => {
    const d = mkdtempSync(join(tmpdir(), 'kiln-tools-'));
    dirs.push(d);
    for (const p of programs) {
      writeFileSync(join(d, p), '#!/bin/sh\n');
      chmodSync(join(d, p), 0o755);
    }
    return d;
  };
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('reports every power type whose tool is missing, naming the tool and its package', () => {
    expect(probePowerTools(binDir())).toEqual({
      ipmi: 'ipmipower is not installed on this rack (package freeipmi-tools)',
      virsh: 'virsh is not installed on this rack (package libvirt-clients)',
    });
    expect(probePowerTools([binDir('virsh'), binDir()].join(delimiter))).toEqual({ ipmi: expect.stringContaining('ipmipower') });
  });

  it('reports nothing when every tool is on the PATH, and ignores files that are not executable', () => {
    expect(probePowerTools([binDir('ipmipower'), binDir('virsh')].join(delimiter))).toEqual({});
    const d = binDir();
    writeFileSync(join(d, 'ipmipower'), '');
    chmodSync(join(d, 'ipmipower'), 0o644);
    expect(Object.keys(probePowerTools([d, binDir('virsh')].join(delimiter)))).toEqual(['ipmi']);
  });
});
