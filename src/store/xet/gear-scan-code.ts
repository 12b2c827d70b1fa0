/**
 * Generates a small WebAssembly module that finds every gear-hash cut candidate in a buffer: each byte
 * where the gear hash of the 64 bytes ending there has its top 16 bits zero. The hash of a position
 * depends on those 64 bytes only (one bit is shifted out per byte), so the buffer is scanned as two halves
 * at once, each lane first hashing the 64 bytes before its start: two independent dependency chains
 * instead of one, eight bytes per loop turn. Which candidates become cuts (minimum and maximum chunk
 * sizes) is decided by the caller. gear-scanner.ts drives it; parameters and results pass through memory.
 */
import { GEAR_CANDIDATE_BELOW, GEAR_WINDOW } from './constants.ts'
import { get, i32Const, i64Const, moduleBytes, set, uleb } from './wasm-encoding.ts'

/** Byte offsets in the module's memory. */
export const GEAR_LAYOUT = {
  /** 256 x u64: the gear table. */
  table: 0,
  /** i32 x 2: where each lane's candidate list ends (written by scan). */
  ends: 2048,
  /** i32 per candidate: lane A's (the first half), then the second lane's from `outB`. */
  outA: 4096,
} as const

/**
 * Bytes one scan call may cover; each lane may record up to this many candidates (their output areas are
 * memory that only fills where candidates are, about one per 64 KiB). 1 MiB: the reader of a file can read
 * straight into the input area (GearCandidateScanner.input) in steps of a useful size.
 */
export const GEAR_SCAN_SLICE = 1024 * 1024
const OUT_B = GEAR_LAYOUT.outA + 4 * GEAR_SCAN_SLICE
/** Where the input goes; the GEAR_WINDOW bytes before it hold what preceded it in the stream. */
export const GEAR_INPUT = OUT_B + 4 * GEAR_SCAN_SLICE + GEAR_WINDOW
export const GEAR_PAGES = Math.ceil((GEAR_INPUT + GEAR_SCAN_SLICE) / 65536)

const UNROLL = 8

// Locals: the parameters, then i32s, then i64s.
const FROM = 0
const TO = 1
const PA = 2
const PB = 3
const END = 4
const OUTA = 5
const OUTB = 6
const HALF = 7
const HA = 8
const HB = 9

const I32_ADD = 0x6a
const I32_SUB = 0x6b
const I32_SHL = 0x74
const I32_SHR_U = 0x76
const I32_LT_U = 0x49
const I32_GE_U = 0x4f
const I64_SHL = 0x86
const I64_ADD = 0x7c
const I64_LT_U = 0x54
const load8 = (offset: number): number[] => [0x2d, 0x00, ...uleb(offset)]
const load64 = (offset: number): number[] => [0x29, 0x03, ...uleb(offset)]
const store32 = (offset: number): number[] => [0x36, 0x02, ...uleb(offset)]
const addTo = (local: number, n: number): number[] => [...get(local), ...i32Const(n), I32_ADD, ...set(local)]
/** `block loop <body> br_if 0 (local < end) end end`: runs body at least once. */
const loopWhileBelow = (local: number, end: number, body: number[]): number[] => [
  ...[0x02, 0x40, 0x03, 0x40],
  ...body,
  ...[...get(local), ...get(end), I32_LT_U, 0x0d, 0x00],
  ...[0x0b, 0x0b],
]

/** h = (h << 1) + table[byte at p + k]. */
const step = (h: number, p: number, k: number): number[] => [
  ...get(h),
  ...i64Const(1n),
  I64_SHL,
  ...get(p),
  ...load8(k),
  ...i32Const(3),
  I32_SHL,
  ...load64(GEAR_LAYOUT.table),
  I64_ADD,
  ...set(h),
]

/** If h is a candidate, append p + k to the list at `out`. */
const record = (h: number, p: number, k: number, out: number): number[] => [
  ...get(h),
  ...i64Const(GEAR_CANDIDATE_BELOW),
  I64_LT_U,
  ...[0x04, 0x40],
  ...[...get(out), ...get(p), ...i32Const(k), I32_ADD, ...store32(0)],
  ...addTo(out, 4),
  0x0b,
]

/**
 * scan(from, to): lane A takes [from, from + half), lane B [from + half, from + 2 * half) and then the rest
 * up to `to`, byte by byte (half is a multiple of UNROLL). The candidates' addresses go to outA and outB
 * in increasing order, and where each list ends to `ends`.
 */
function scanBody(): number[] {
  const code: number[] = []
  // half = ((to - from) >> 4) << 3
  code.push(
    ...get(TO),
    ...get(FROM),
    I32_SUB,
    ...i32Const(4),
    I32_SHR_U,
    ...i32Const(3),
    I32_SHL,
    ...set(HALF),
  )
  code.push(...get(FROM), ...i32Const(GEAR_WINDOW), I32_SUB, ...set(PA))
  code.push(...get(FROM), ...get(HALF), I32_ADD, ...i32Const(GEAR_WINDOW), I32_SUB, ...set(PB))
  // Warm-up: each lane hashes the 64 bytes before its start, recording nothing.
  code.push(...get(FROM), ...set(END))
  const warm: number[] = []
  for (let k = 0; k < UNROLL; k++) warm.push(...step(HA, PA, k), ...step(HB, PB, k))
  warm.push(...addTo(PA, UNROLL), ...addTo(PB, UNROLL))
  code.push(...loopWhileBelow(PA, END, warm))
  code.push(...i32Const(GEAR_LAYOUT.outA), ...set(OUTA), ...i32Const(OUT_B), ...set(OUTB))
  // Both lanes, UNROLL bytes each per turn.
  code.push(...get(FROM), ...get(HALF), I32_ADD, ...set(END))
  const both: number[] = []
  for (let k = 0; k < UNROLL; k++) {
    both.push(...step(HA, PA, k), ...step(HB, PB, k))
    both.push(...record(HA, PA, k, OUTA), ...record(HB, PB, k, OUTB))
  }
  both.push(...addTo(PA, UNROLL), ...addTo(PB, UNROLL))
  code.push(...get(HALF), 0x04, 0x40, ...loopWhileBelow(PA, END, both), 0x0b)
  // The rest, lane B alone.
  code.push(0x02, 0x40, 0x03, 0x40)
  code.push(...get(PB), ...get(TO), I32_GE_U, 0x0d, 0x01) // br_if out of the block
  code.push(...step(HB, PB, 0), ...record(HB, PB, 0, OUTB), ...addTo(PB, 1))
  code.push(0x0c, 0x00, 0x0b, 0x0b) // br loop; end loop; end block
  code.push(...i32Const(0), ...get(OUTA), ...store32(GEAR_LAYOUT.ends))
  code.push(...i32Const(0), ...get(OUTB), ...store32(GEAR_LAYOUT.ends + 4))
  return code
}

/** The module: exports `scan(from: i32, to: i32)` and its `memory`. */
export function gearScanModuleBytes(): Uint8Array {
  return moduleBytes(
    {
      name: 'scan',
      params: [0x7f, 0x7f],
      locals: [
        [6, 0x7f],
        [2, 0x7e],
      ],
      body: scanBody(),
    },
    GEAR_PAGES,
  )
}
