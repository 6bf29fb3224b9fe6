/**
 * Public surface of `layers`: guest physical memory from live RAM and dumps, and x86-64 address
 * translation over it (4-level and 5-level paging as data tables, one walker).
 */
export { BlockCache, type BlockCacheOptions } from './block-cache.js';
export { BytesLayer } from './bytes-layer.js';
export {
  openElfCore,
  type ElfCore,
  type ElfCoreOptions,
  type ProgramHeader,
} from './elf-core-layer.js';
export {
  readElfSection,
  readElfSummary,
  type ElfSection,
  type ElfSummary,
} from './elf-sections.js';
export { parseElfNotes, type ElfNote, type ElfNoteLimits } from './elf-notes.js';
export { FileSource, type FileSourceOptions } from './file-source.js';
export { InvalidAddressError, type InvalidAddressInfo } from './invalid-address-error.js';
export { LIME_MAGIC, openLimeLayer, type LimeOptions } from './lime-layer.js';
export {
  DEFAULT_MAX_MAPPINGS,
  DEFAULT_MAX_TABLES,
  PageTableWalker,
  faultError,
  type MappingsOptions,
  type PageMapping,
  type Translation,
  type TranslationFault,
  type TranslationHit,
} from './page-table-walker.js';
export { PageTableCache, type PageTableCacheOptions } from './page-table-cache.js';
export {
  CR3_ADDRESS_MASK,
  CR4_LA57,
  PAGING_4_LEVEL,
  PAGING_5_LEVEL,
  pagingModeForCr4,
  type PagingLevel,
  type PagingMode,
} from './paging-modes.js';
export {
  layerEnd,
  type PhysicalLayer,
  type PhysicalRange,
  type PhysicalReadOptions,
} from './physical-layer.js';
export { parsePrStatus, type PrStatus } from './prstatus.js';
export {
  findRamMapping,
  parseProcMaps,
  type ProcMapping,
  type RamMappingQuery,
} from './proc-maps.js';
export { openProcMemLayer, type ProcMemOptions } from './proc-mem-layer.js';
export { defaultBelowFourGiB, ramLayoutSegments } from './ram-layout.js';
export { parseQemuCpuState, type QemuCpuState } from './qemu-cpu-state.js';
export { openRawLayer, type RawLayerOptions } from './raw-layer.js';
export { MAX_READ_BYTES, SegmentedLayer, type Segment } from './segmented-layer.js';
export { VirtualLayer, type VirtualReadOptions } from './virtual-layer.js';
export { Vmcoreinfo, type VmcoreinfoLimits } from './vmcoreinfo.js';
