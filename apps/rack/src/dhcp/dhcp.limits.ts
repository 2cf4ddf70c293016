/** Larger than any DHCP message a client sends on a standard Ethernet MTU, with headroom. */
export const MAX_DATAGRAM = 4096;
