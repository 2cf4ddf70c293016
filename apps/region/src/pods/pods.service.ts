import { Injectable } from '@nestjs/common';
import { invalid, notFound } from '../common/domain.error';

/** Why a VM host cannot be added, with what to do instead (Kiln's virsh power driver drives each VM). */
export const NO_VM_HOSTS =
  'Kiln does not manage VM hosts (pods): it neither discovers nor composes virtual machines. ' +
  'Add each virtual machine as a machine with power_type=virsh (power_address=qemu+ssh://<host>/system, power_id=<libvirt domain>) instead.';

/**
 * MAAS's VM hosts (pods). Kiln has none and cannot add any: the collection is empty, adding one is
 * refused with the reason, and every VM host id is unknown.
 */
@Injectable()
export class PodsService {
  list(): never[] {
    return [];
  }

  create(): never {
    throw invalid(NO_VM_HOSTS);
  }

  /** Every id: there is no VM host to find. */
  get(): never {
    throw notFound('No Pod matches the given query.');
  }
}
