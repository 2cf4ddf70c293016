import { hweKernelProblem, parseKernel } from './hwe-kernel';

describe('hwe_kernel', () => {
  it('parses MAAS kernel names and nothing else', () => {
    expect(parseKernel('ga-22.04')).toEqual({ kind: 'ga', version: '22.04', edge: false });
    expect(parseKernel('hwe-22.04-edge')).toEqual({ kind: 'hwe', version: '22.04', edge: true });
    for (const bad of ['ga-22.04-edge', 'hwe-22', 'hwe-t', 'linux-generic', '', 'hwe-22.04-lowlatency']) expect(parseKernel(bad)).toBeNull();
  });

  it('accepts the release\'s own kernels, at or above the machine\'s minimum', () => {
    for (const k of ['ga-22.04', 'hwe-22.04', 'hwe-22.04-edge']) expect(hweKernelProblem('ubuntu', 'jammy', k, '')).toBeNull();
    expect(hweKernelProblem('ubuntu', 'jammy', 'hwe-22.04', 'ga-22.04')).toBeNull();
    expect(hweKernelProblem('ubuntu', 'jammy', undefined, 'hwe-22.04')).toBeNull();
    expect(hweKernelProblem('debian', 'bookworm', '', null)).toBeNull();
  });

  it('refuses, naming why: another OS, a malformed name, another release\'s kernel, below the minimum', () => {
    expect(hweKernelProblem('debian', 'bookworm', 'hwe-22.04', null)).toBe('hwe_kernel applies to Ubuntu releases; debian/bookworm installs the kernel its image carries.');
    expect(hweKernelProblem('ubuntu', 'jammy', 'linux-hwe', null)).toContain("'linux-hwe' is not a kernel name");
    expect(hweKernelProblem('ubuntu', 'jammy', 'hwe-20.04', null)).toBe('hwe-20.04 is not available for ubuntu/jammy, whose kernels are ga-22.04, hwe-22.04 and hwe-22.04-edge.');
    expect(hweKernelProblem('ubuntu', 'oracular', 'ga-24.10', null)).toBe('ubuntu/oracular has no hardware enablement kernels (only LTS releases do).');
    expect(hweKernelProblem('ubuntu', 'jammy', 'ga-22.04', 'hwe-22.04')).toBe("ga-22.04 is older than the machine's min_hwe_kernel hwe-22.04.");
    expect(hweKernelProblem('ubuntu', 'jammy', 'hwe-22.04', 'hwe-22.04-edge')).toContain('older than');
  });
});
