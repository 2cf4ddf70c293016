/**
 * MAAS's kernel choice for a deployment (hwe_kernel, the machine's min_hwe_kernel): ga-<version>
 * (the release's own kernel), hwe-<version> and hwe-<version>-edge (its hardware enablement
 * kernels). They exist for Ubuntu LTS releases only, each release offering its own version's.
 */
const UBUNTU_LTS: Readonly<Record<string, string>> = { xenial: '16.04', bionic: '18.04', focal: '20.04', jammy: '22.04', noble: '24.04' };

export interface KernelChoice {
  kind: 'ga' | 'hwe';
  version: string;
  edge: boolean;
}

export function parseKernel(name: string): KernelChoice | null {
  const m = /^(ga|hwe)-(\d{2}\.\d{2})(-edge)?$/.exec(name.trim());
  if (!m || (m[1] === 'ga' && m[3])) return null;
  return { kind: m[1] as 'ga' | 'hwe', version: m[2], edge: !!m[3] };
}

/** Orders kernels as MAAS does: by version, then ga < hwe < hwe-edge. */
function rank(k: KernelChoice): number {
  const [major, minor] = k.version.split('.').map(Number);
  return (major * 100 + minor) * 10 + (k.kind === 'ga' ? 0 : k.edge ? 2 : 1);
}

/** Why this kernel cannot be installed with this release on this machine, or null when it can. */
export function hweKernelProblem(osystem: string, series: string, hweKernel: string | undefined, minHweKernel: string | null | undefined): string | null {
  const wanted = hweKernel?.trim();
  if (!wanted) return null;
  if (osystem !== 'ubuntu') return `hwe_kernel applies to Ubuntu releases; ${osystem}/${series} installs the kernel its image carries.`;
  const k = parseKernel(wanted);
  if (!k) return `'${wanted}' is not a kernel name: use ga-<version>, hwe-<version> or hwe-<version>-edge (e.g. hwe-22.04).`;
  const version = UBUNTU_LTS[series];
  if (!version) return `ubuntu/${series} has no hardware enablement kernels (only LTS releases do).`;
  if (k.version !== version) return `${wanted} is not available for ubuntu/${series}, whose kernels are ga-${version}, hwe-${version} and hwe-${version}-edge.`;
  const min = minHweKernel?.trim() ? parseKernel(minHweKernel) : null;
  if (min && rank(k) < rank(min)) return `${wanted} is older than the machine's min_hwe_kernel ${minHweKernel!.trim()}.`;
  return null;
}
