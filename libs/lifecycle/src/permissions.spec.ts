import { hasMachineRight, MachineRight } from './permissions';

describe('hasMachineRight', () => {
  const rights: MachineRight[] = ['see', 'edit', 'own', 'admin'];
  const cases: Array<[string, { isAdmin: boolean; owned: boolean; isOwner: boolean }, MachineRight[]]> = [
    ['an administrator, any machine', { isAdmin: true, owned: true, isOwner: false }, ['see', 'edit', 'own', 'admin']],
    ['a user, an unowned machine', { isAdmin: false, owned: false, isOwner: false }, ['see', 'edit']],
    ['a user, their own machine', { isAdmin: false, owned: true, isOwner: true }, ['see', 'edit', 'own']],
    ["a user, another user's machine", { isAdmin: false, owned: true, isOwner: false }, []],
  ];

  it.each(cases)('%s', (_name, subject, granted) => {
    expect(rights.filter((r) => hasMachineRight(r, subject))).toEqual(granted);
  });
});
