export { normalizeMac } from '../../common/mac';
