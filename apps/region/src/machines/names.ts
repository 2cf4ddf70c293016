import { randomInt } from 'node:crypto';

// Crockford-style lower-case base32 without look-alikes, as MAAS system ids look (e.g. "thr3am").
const SYSTEM_ID_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

export function newSystemId(): string {
  let s = '';
  for (let i = 0; i < 6; i++) s += SYSTEM_ID_ALPHABET[randomInt(SYSTEM_ID_ALPHABET.length)];
  return s;
}

const ADJECTIVES = [
  'able', 'above', 'active', 'amber', 'apt', 'bold', 'brave', 'brief', 'bright', 'calm', 'clean', 'clear', 'close',
  'cool', 'crisp', 'deep', 'eager', 'early', 'easy', 'even', 'exact', 'fair', 'fast', 'fine', 'first', 'fit',
  'fresh', 'glad', 'good', 'grand', 'great', 'happy', 'hardy', 'ideal', 'keen', 'kind', 'known', 'large', 'light',
  'live', 'loved', 'loyal', 'lucky', 'magic', 'main', 'merry', 'mint', 'modern', 'neat', 'new', 'nice', 'noble',
  'open', 'polite', 'prime', 'proper', 'proud', 'quick', 'quiet', 'rapid', 'ready', 'real', 'rich', 'right',
  'safe', 'sharp', 'smart', 'smooth', 'solid', 'sound', 'steady', 'still', 'strong', 'sunny', 'sure', 'swift',
  'tender', 'tidy', 'tough', 'true', 'upward', 'useful', 'valid', 'vital', 'warm', 'well', 'whole', 'wise',
];
const ANIMALS = [
  'ant', 'ape', 'bass', 'bat', 'bear', 'bee', 'bird', 'boar', 'bug', 'calf', 'cat', 'clam', 'cod', 'colt', 'crab',
  'crow', 'deer', 'doe', 'dog', 'dove', 'duck', 'eagle', 'eel', 'elk', 'emu', 'ewe', 'fawn', 'finch', 'fish',
  'foal', 'fox', 'frog', 'gnat', 'goat', 'goose', 'gull', 'hare', 'hawk', 'hen', 'heron', 'horse', 'hound',
  'ibex', 'jay', 'kid', 'kite', 'koala', 'lamb', 'lark', 'lion', 'llama', 'loon', 'lynx', 'mink', 'mole', 'moose',
  'moth', 'mouse', 'mule', 'newt', 'orca', 'otter', 'owl', 'ox', 'panda', 'pig', 'pony', 'pug', 'quail', 'ram',
  'raven', 'robin', 'seal', 'shark', 'sheep', 'snail', 'snake', 'squid', 'stork', 'swan', 'tick', 'toad', 'trout',
  'tuna', 'viper', 'wasp', 'whale', 'wolf', 'worm', 'wren', 'yak', 'zebra',
];

/** A two-word hostname such as "above-robin", as MAAS generates. */
export function newHostname(): string {
  return `${ADJECTIVES[randomInt(ADJECTIVES.length)]}-${ANIMALS[randomInt(ANIMALS.length)]}`;
}

const HOSTNAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;

export function isValidHostname(h: string): boolean {
  return HOSTNAME.test(h);
}
