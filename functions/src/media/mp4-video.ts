/**
 * A dependency-free MP4 writer for short synthetic clips: H.264 (ITU-T H.264 / ISO 14496-10) Constrained Baseline,
 * every macroblock coded as I_PCM (raw 8-bit 4:2:0 samples, so no transform or entropy coding is needed), every
 * frame an IDR picture, in an ISO BMFF file (ISO 14496-12) with the AVC file format mapping (ISO 14496-15):
 * `ftyp`, then `moov` (fast start), then `mdat` holding length-prefixed NAL units.
 *
 * I_PCM is uncompressed: a file is about `frameCount × width × height × 1.5` bytes, so keep clips small.
 */

/** Frames to encode. Dimensions are whole macroblocks, so the bitstream needs no cropping window. */
export interface VideoFrameSource {
  /** Width in pixels: a positive multiple of 16. */
  readonly width: number;
  /** Height in pixels: a positive multiple of 16. */
  readonly height: number;
  /** Number of frames: a positive integer. */
  readonly frameCount: number;
  /** Frame rate: 0.001 to 1000, rounded to 0.001 (the media timescale is framesPerSecond × 1000). */
  readonly framesPerSecond: number;
  /**
   * Fills `rgba` (width × height × 4 bytes, row-major, zeroed before each call) with frame `index`. Alpha is
   * ignored: H.264 has no alpha plane.
   */
  drawFrame(index: number, rgba: Uint8Array): void;
}

const MACROBLOCK_SIZE = 16;
const CHROMA_BLOCK_SIZE = 8;
/** Bytes of pcm_sample_luma[256] + pcm_sample_chroma[2 × 64] (7.3.5, 4:2:0 at 8 bits). */
const PCM_BYTES_PER_MACROBLOCK = MACROBLOCK_SIZE * MACROBLOCK_SIZE + 2 * CHROMA_BLOCK_SIZE * CHROMA_BLOCK_SIZE;

/** mb_type 25 is I_PCM in I slices (Table 7-11). */
const MB_TYPE_I_PCM = 25;
/** slice_type 7: I, and every slice of the picture is I (Table 7-6). */
const SLICE_TYPE_ALL_I = 7;

/** nal_unit_type values (Table 7-1). */
const NAL_UNIT_IDR_SLICE = 5;
const NAL_UNIT_SPS = 7;
const NAL_UNIT_PPS = 8;
/** Parameter sets and IDR pictures are always "reference" data (nal_ref_idc must be non-zero for them). */
const NAL_REF_IDC_HIGHEST = 3;

const PROFILE_BASELINE = 66;
/**
 * constraint_set0_flag (obeys Baseline) and constraint_set1_flag (obeys Main): both together signal Constrained
 * Baseline, the subset every browser decoder supports.
 */
const CONSTRAINED_BASELINE_FLAGS = 0b1100_0000;
/** log2_max_frame_num_minus4 = 0: frame_num is 4 bits, and always 0 since every picture is an IDR. */
const LOG2_MAX_FRAME_NUM = 4;

/** NALUnitLength field size in `mdat` samples (avcC lengthSizeMinusOne + 1). */
const NAL_LENGTH_BYTES = 4;
/** ISO 14496-12 `mvhd` timescale: milliseconds. */
const MOVIE_TIMESCALE = 1000;
/** Media timescale ticks per frame: the media timescale is `framesPerSecond × 1000`, so fractional rates fit. */
const MEDIA_TICKS_PER_FRAME = 1000;
const MAX_FRAMES_PER_SECOND = 1000;
const MAX_UINT32 = 0xffff_ffff;

/** One row of Table A-1 (level limits). `maxBitRate` is in units of 1000 bit/s for Baseline (cpbBrVclFactor). */
interface H264Level {
  readonly levelIdc: number;
  readonly maxMacroblocksPerSecond: number;
  readonly maxFrameMacroblocks: number;
  readonly maxBitRate: number;
}

// Level 1b is left out: for Baseline it needs constraint_set3_flag and adds nothing useful for uncompressed video.
const LEVELS: readonly H264Level[] = [
  { levelIdc: 10, maxMacroblocksPerSecond: 1_485, maxFrameMacroblocks: 99, maxBitRate: 64 },
  { levelIdc: 11, maxMacroblocksPerSecond: 3_000, maxFrameMacroblocks: 396, maxBitRate: 192 },
  { levelIdc: 12, maxMacroblocksPerSecond: 6_000, maxFrameMacroblocks: 396, maxBitRate: 384 },
  { levelIdc: 13, maxMacroblocksPerSecond: 11_880, maxFrameMacroblocks: 396, maxBitRate: 768 },
  { levelIdc: 20, maxMacroblocksPerSecond: 11_880, maxFrameMacroblocks: 396, maxBitRate: 2_000 },
  { levelIdc: 21, maxMacroblocksPerSecond: 19_800, maxFrameMacroblocks: 792, maxBitRate: 4_000 },
  { levelIdc: 22, maxMacroblocksPerSecond: 20_250, maxFrameMacroblocks: 1_620, maxBitRate: 4_000 },
  { levelIdc: 30, maxMacroblocksPerSecond: 40_500, maxFrameMacroblocks: 1_620, maxBitRate: 10_000 },
  { levelIdc: 31, maxMacroblocksPerSecond: 108_000, maxFrameMacroblocks: 3_600, maxBitRate: 14_000 },
  { levelIdc: 32, maxMacroblocksPerSecond: 216_000, maxFrameMacroblocks: 5_120, maxBitRate: 20_000 },
  { levelIdc: 40, maxMacroblocksPerSecond: 245_760, maxFrameMacroblocks: 8_192, maxBitRate: 20_000 },
  { levelIdc: 41, maxMacroblocksPerSecond: 245_760, maxFrameMacroblocks: 8_192, maxBitRate: 50_000 },
  { levelIdc: 42, maxMacroblocksPerSecond: 522_240, maxFrameMacroblocks: 8_704, maxBitRate: 50_000 },
  { levelIdc: 50, maxMacroblocksPerSecond: 589_824, maxFrameMacroblocks: 22_080, maxBitRate: 135_000 },
  { levelIdc: 51, maxMacroblocksPerSecond: 983_040, maxFrameMacroblocks: 36_864, maxBitRate: 240_000 },
  { levelIdc: 52, maxMacroblocksPerSecond: 2_073_600, maxFrameMacroblocks: 36_864, maxBitRate: 240_000 },
];

/**
 * Encodes `source` as a playable `video/mp4` (H.264 Constrained Baseline, I_PCM, 4:2:0, BT.601 limited range,
 * moov before mdat). The result is uncompressed: about `frameCount × width × height × 1.5` bytes.
 *
 * @throws RangeError when the dimensions are not positive multiples of 16 (or exceed every H.264 level), the frame
 *   count is not a positive integer, the frame rate is out of range, or the file would exceed 4 GiB.
 */
export function encodeMp4(source: VideoFrameSource): Buffer {
  const { width, height, frameCount, framesPerSecond } = source;
  validateSource(width, height, frameCount, framesPerSecond);
  const widthInMacroblocks = width / MACROBLOCK_SIZE;
  const heightInMacroblocks = height / MACROBLOCK_SIZE;
  const mediaTimescale = Math.round(framesPerSecond * MEDIA_TICKS_PER_FRAME);

  // Chosen before encoding so oversized pictures fail fast. Every picture has the same size: the NAL header, a slice
  // header of a few bytes, then per macroblock the I_PCM mb_type with its alignment (2 bytes) and 384 samples.
  const pictureBytes = 8 + widthInMacroblocks * heightInMacroblocks * (PCM_BYTES_PER_MACROBLOCK + 2);
  const levelIdc = chooseLevel(widthInMacroblocks, heightInMacroblocks, framesPerSecond, pictureBytes);
  if (frameCount * (pictureBytes + NAL_LENGTH_BYTES) > MAX_UINT32) {
    throw new RangeError(`${frameCount} frames of ${width}x${height} exceed the 4 GiB that 32-bit stco offsets allow.`);
  }

  const rgba = new Uint8Array(width * height * 4);
  const planes: YuvPlanes = {
    luma: new Uint8Array(width * height),
    blueDifference: new Uint8Array((width / 2) * (height / 2)),
    redDifference: new Uint8Array((width / 2) * (height / 2)),
  };
  const sliceWriter = new BitWriter(pictureBytes);
  const slices: Uint8Array[] = [];
  for (let index = 0; index < frameCount; index++) {
    rgba.fill(0);
    source.drawFrame(index, rgba);
    convertRgbaToYuv420(rgba, width, height, planes);
    sliceWriter.reset();
    writeIdrSlice(sliceWriter, planes, width, height, index);
    slices.push(nalUnit(NAL_REF_IDC_HIGHEST, NAL_UNIT_IDR_SLICE, sliceWriter.finishRbsp()));
  }

  const sequenceParameterSet = nalUnit(
    NAL_REF_IDC_HIGHEST,
    NAL_UNIT_SPS,
    writeSequenceParameterSet(widthInMacroblocks, heightInMacroblocks, levelIdc, mediaTimescale),
  );
  const pictureParameterSet = nalUnit(NAL_REF_IDC_HIGHEST, NAL_UNIT_PPS, writePictureParameterSet());

  return writeMp4File({
    width,
    height,
    mediaTimescale,
    slices,
    sequenceParameterSet,
    pictureParameterSet,
  });
}

function validateSource(width: number, height: number, frameCount: number, framesPerSecond: number): void {
  for (const [name, value] of [
    ["width", width],
    ["height", height],
  ] as const) {
    if (!Number.isInteger(value) || value <= 0 || value % MACROBLOCK_SIZE !== 0) {
      throw new RangeError(`Video ${name} must be a positive multiple of ${MACROBLOCK_SIZE}, got ${value}.`);
    }
  }
  if (!Number.isInteger(frameCount) || frameCount <= 0) {
    throw new RangeError(`Video frame count must be a positive integer, got ${frameCount}.`);
  }
  // The media timescale is framesPerSecond × 1000 and must round to at least 1 tick per second.
  if (!(framesPerSecond >= 0.001 && framesPerSecond <= MAX_FRAMES_PER_SECOND)) {
    throw new RangeError(
      `Video frame rate must be between 0.001 and ${MAX_FRAMES_PER_SECOND}, got ${framesPerSecond}.`,
    );
  }
}

/**
 * Picks the lowest level_idc whose Table A-1 limits hold for the frame size (MaxFS, and each side at most
 * sqrt(MaxFS × 8) macroblocks), the macroblock rate (MaxMBPS) and the bit rate (MaxBR). When even the highest level
 * cannot carry the uncompressed bit rate, the bit rate is dropped from the choice: decoders do not enforce it.
 * MinCR (the minimum compression ratio) is never met by I_PCM and is likewise not enforced by decoders.
 */
function chooseLevel(
  widthInMacroblocks: number,
  heightInMacroblocks: number,
  framesPerSecond: number,
  pictureBytes: number,
): number {
  const frameMacroblocks = widthInMacroblocks * heightInMacroblocks;
  const fitsPicture = (level: H264Level): boolean => {
    const maxSide = Math.sqrt(level.maxFrameMacroblocks * 8);
    return (
      frameMacroblocks <= level.maxFrameMacroblocks &&
      widthInMacroblocks <= maxSide &&
      heightInMacroblocks <= maxSide &&
      frameMacroblocks * framesPerSecond <= level.maxMacroblocksPerSecond
    );
  };
  const bitsPerSecond = pictureBytes * 8 * framesPerSecond;
  const level =
    LEVELS.find((candidate) => fitsPicture(candidate) && bitsPerSecond <= candidate.maxBitRate * 1000) ??
    LEVELS.find(fitsPicture);
  if (level === undefined) {
    throw new RangeError(
      `A ${widthInMacroblocks * MACROBLOCK_SIZE}x${heightInMacroblocks * MACROBLOCK_SIZE} video at ` +
        `${framesPerSecond} fps exceeds every H.264 level.`,
    );
  }
  return level.levelIdc;
}

interface YuvPlanes {
  /** Y', one byte per pixel. */
  readonly luma: Uint8Array;
  /** Cb, one byte per 2x2 block. */
  readonly blueDifference: Uint8Array;
  /** Cr, one byte per 2x2 block. */
  readonly redDifference: Uint8Array;
}

/**
 * RGBA → Y'CbCr 4:2:0 with the BT.601 matrix in limited ("video") range, Y' 16–235 and Cb/Cr 16–240, which is what
 * decoders assume without other signalling (the SPS VUI states it too). Chroma is converted from the 2x2 block's
 * mean RGB, which equals the mean of the per-pixel chroma because the matrix is linear. Limited range also means no
 * sample is ever 0x00–0x03, so the PCM bytes never need emulation prevention.
 */
function convertRgbaToYuv420(rgba: Uint8Array, width: number, height: number, planes: YuvPlanes): void {
  const { luma, blueDifference, redDifference } = planes;
  const chromaWidth = width / 2;
  for (let y = 0; y < height; y += 2) {
    for (let x = 0; x < width; x += 2) {
      let redSum = 0;
      let greenSum = 0;
      let blueSum = 0;
      for (let row = y; row < y + 2; row++) {
        for (let column = x; column < x + 2; column++) {
          const pixel = row * width + column;
          const offset = pixel * 4;
          const red = rgba[offset] ?? 0;
          const green = rgba[offset + 1] ?? 0;
          const blue = rgba[offset + 2] ?? 0;
          luma[pixel] = ((66 * red + 129 * green + 25 * blue + 128) >> 8) + 16;
          redSum += red;
          greenSum += green;
          blueSum += blue;
        }
      }
      // Sums of four pixels: shift by 2 more bits (>> 10) to average them; `>>` floors negatives as intended.
      const chromaIndex = (y / 2) * chromaWidth + x / 2;
      blueDifference[chromaIndex] = ((-38 * redSum - 74 * greenSum + 112 * blueSum + 512) >> 10) + 128;
      redDifference[chromaIndex] = ((112 * redSum - 94 * greenSum - 18 * blueSum + 512) >> 10) + 128;
    }
  }
}

/**
 * slice_layer_without_partitioning_rbsp() (7.3.2.8) for one IDR picture made of one I slice: slice_header()
 * (7.3.3), then slice_data() (7.3.4) with one macroblock_layer() (7.3.5) per macroblock in raster order, each
 * mb_type = I_PCM, pcm_alignment_zero_bits, 256 luma samples and 64 + 64 chroma samples (each block in raster order).
 * CAVLC I slices have no mb_skip_run and no end_of_slice_flag, so macroblocks simply follow one another.
 */
function writeIdrSlice(writer: BitWriter, planes: YuvPlanes, width: number, height: number, index: number): void {
  writer.writeUnsignedExpGolomb(0); // first_mb_in_slice
  writer.writeUnsignedExpGolomb(SLICE_TYPE_ALL_I); // slice_type
  writer.writeUnsignedExpGolomb(0); // pic_parameter_set_id
  writer.writeBits(0, LOG2_MAX_FRAME_NUM); // frame_num: 0 in IDR pictures
  // idr_pic_id: two consecutive IDR access units must differ (7.4.3), so alternate 0 and 1.
  writer.writeUnsignedExpGolomb(index % 2);
  // pic_order_cnt_type 2: no POC syntax. dec_ref_pic_marking() for IDR (7.3.3.3):
  writer.writeBits(0, 1); // no_output_of_prior_pics_flag
  writer.writeBits(0, 1); // long_term_reference_flag
  writer.writeSignedExpGolomb(0); // slice_qp_delta (irrelevant to I_PCM)
  // disable_deblocking_filter_idc = 1: PCM samples are the exact picture, so never filter them.
  writer.writeUnsignedExpGolomb(1);

  const chromaWidth = width / 2;
  for (let top = 0; top < height; top += MACROBLOCK_SIZE) {
    for (let left = 0; left < width; left += MACROBLOCK_SIZE) {
      writer.writeUnsignedExpGolomb(MB_TYPE_I_PCM);
      writer.alignWithZeros(); // pcm_alignment_zero_bit
      writer.writeAlignedBlock(planes.luma, width, left, top, MACROBLOCK_SIZE);
      writer.writeAlignedBlock(planes.blueDifference, chromaWidth, left / 2, top / 2, CHROMA_BLOCK_SIZE);
      writer.writeAlignedBlock(planes.redDifference, chromaWidth, left / 2, top / 2, CHROMA_BLOCK_SIZE);
    }
  }
}

/** seq_parameter_set_rbsp() (7.3.2.1.1) for Constrained Baseline with a VUI (E.1.1). */
function writeSequenceParameterSet(
  widthInMacroblocks: number,
  heightInMacroblocks: number,
  levelIdc: number,
  mediaTimescale: number,
): Uint8Array {
  const writer = new BitWriter(64);
  writer.writeBits(PROFILE_BASELINE, 8); // profile_idc
  writer.writeBits(CONSTRAINED_BASELINE_FLAGS, 8); // constraint_set0..5_flag + reserved_zero_2bits
  writer.writeBits(levelIdc, 8); // level_idc
  writer.writeUnsignedExpGolomb(0); // seq_parameter_set_id
  // Profile 66 carries no chroma_format_idc / bit depth syntax: 4:2:0 at 8 bits is implied.
  writer.writeUnsignedExpGolomb(LOG2_MAX_FRAME_NUM - 4); // log2_max_frame_num_minus4
  writer.writeUnsignedExpGolomb(2); // pic_order_cnt_type 2: output order is decoding order, no POC syntax
  writer.writeUnsignedExpGolomb(1); // max_num_ref_frames: an IDR picture is still marked as a reference
  writer.writeBits(0, 1); // gaps_in_frame_num_value_allowed_flag
  writer.writeUnsignedExpGolomb(widthInMacroblocks - 1); // pic_width_in_mbs_minus1
  writer.writeUnsignedExpGolomb(heightInMacroblocks - 1); // pic_height_in_map_units_minus1
  writer.writeBits(1, 1); // frame_mbs_only_flag: progressive frames only
  writer.writeBits(1, 1); // direct_8x8_inference_flag
  writer.writeBits(0, 1); // frame_cropping_flag: sizes are whole macroblocks
  writer.writeBits(1, 1); // vui_parameters_present_flag

  // vui_parameters() (E.1.1)
  writer.writeBits(0, 1); // aspect_ratio_info_present_flag: square pixels are the default
  writer.writeBits(0, 1); // overscan_info_present_flag
  writer.writeBits(1, 1); // video_signal_type_present_flag
  writer.writeBits(5, 3); // video_format: unspecified
  writer.writeBits(0, 1); // video_full_range_flag: limited range, as converted
  writer.writeBits(1, 1); // colour_description_present_flag
  writer.writeBits(6, 8); // colour_primaries: SMPTE 170M (BT.601 525)
  writer.writeBits(6, 8); // transfer_characteristics: SMPTE 170M
  writer.writeBits(6, 8); // matrix_coefficients: SMPTE 170M (the BT.601 matrix used above)
  writer.writeBits(0, 1); // chroma_loc_info_present_flag
  writer.writeBits(1, 1); // timing_info_present_flag
  // A frame lasts two ticks (E.2.1: time_scale counts fields), so ticks of 1000 / (2 × mediaTimescale) seconds.
  writer.writeBits(MEDIA_TICKS_PER_FRAME, 32); // num_units_in_tick
  writer.writeBits(2 * mediaTimescale, 32); // time_scale
  writer.writeBits(1, 1); // fixed_frame_rate_flag
  writer.writeBits(0, 1); // nal_hrd_parameters_present_flag
  writer.writeBits(0, 1); // vcl_hrd_parameters_present_flag
  writer.writeBits(0, 1); // pic_struct_present_flag
  // bitstream_restriction: without it, max_bytes_per_pic_denom would default to 2, a limit I_PCM pictures break;
  // max_num_reorder_frames 0 also lets decoders output each frame as soon as it is decoded.
  writer.writeBits(1, 1); // bitstream_restriction_flag
  writer.writeBits(1, 1); // motion_vectors_over_pic_boundaries_flag
  writer.writeUnsignedExpGolomb(0); // max_bytes_per_pic_denom: no limit
  writer.writeUnsignedExpGolomb(0); // max_bits_per_mb_denom: no limit
  writer.writeUnsignedExpGolomb(15); // log2_max_mv_length_horizontal
  writer.writeUnsignedExpGolomb(15); // log2_max_mv_length_vertical
  writer.writeUnsignedExpGolomb(0); // max_num_reorder_frames
  writer.writeUnsignedExpGolomb(1); // max_dec_frame_buffering (>= max_num_ref_frames)
  return writer.finishRbsp();
}

/** pic_parameter_set_rbsp() (7.3.2.2): CAVLC, one slice group, deblocking control present. */
function writePictureParameterSet(): Uint8Array {
  const writer = new BitWriter(16);
  writer.writeUnsignedExpGolomb(0); // pic_parameter_set_id
  writer.writeUnsignedExpGolomb(0); // seq_parameter_set_id
  writer.writeBits(0, 1); // entropy_coding_mode_flag: CAVLC (Baseline has no CABAC)
  writer.writeBits(0, 1); // bottom_field_pic_order_in_frame_present_flag
  writer.writeUnsignedExpGolomb(0); // num_slice_groups_minus1 (Constrained Baseline: no FMO)
  writer.writeUnsignedExpGolomb(0); // num_ref_idx_l0_default_active_minus1
  writer.writeUnsignedExpGolomb(0); // num_ref_idx_l1_default_active_minus1
  writer.writeBits(0, 1); // weighted_pred_flag
  writer.writeBits(0, 2); // weighted_bipred_idc
  writer.writeSignedExpGolomb(0); // pic_init_qp_minus26
  writer.writeSignedExpGolomb(0); // pic_init_qs_minus26
  writer.writeSignedExpGolomb(0); // chroma_qp_index_offset
  writer.writeBits(1, 1); // deblocking_filter_control_present_flag: lets slices disable the filter
  writer.writeBits(0, 1); // constrained_intra_pred_flag
  writer.writeBits(0, 1); // redundant_pic_cnt_present_flag (Constrained Baseline: none)
  return writer.finishRbsp();
}

/**
 * Escapes an RBSP into a NAL unit payload (7.4.1): wherever two zero bytes are followed by a byte 0x00–0x03, an
 * emulation_prevention_three_byte (0x03) is inserted so that no start code prefix (00 00 01) can appear inside.
 */
export function insertEmulationPrevention(rbsp: Uint8Array): Uint8Array {
  // Zero bytes are rare in these RBSPs (PCM samples are never below 16), so jump between them with the native
  // indexOf rather than visiting every byte. `positions` are the RBSP offsets that need a 0x03 in front.
  const positions: number[] = [];
  let zero = rbsp.indexOf(0);
  while (zero !== -1 && zero + 2 < rbsp.length) {
    if (rbsp[zero + 1] !== 0) {
      zero = rbsp.indexOf(0, zero + 2);
    } else if ((rbsp[zero + 2] ?? 0xff) <= 3) {
      positions.push(zero + 2);
      // The escaped byte starts a new run: if it is itself zero, it may pair with the next one.
      zero = rbsp.indexOf(0, zero + 2);
    } else {
      zero = rbsp.indexOf(0, zero + 3);
    }
  }
  const payload = new Uint8Array(rbsp.length + positions.length);
  let copied = 0;
  positions.forEach((position, index) => {
    payload.set(rbsp.subarray(copied, position), copied + index);
    payload[position + index] = 3;
    copied = position;
  });
  payload.set(rbsp.subarray(copied), copied + positions.length);
  return payload;
}

/** nal_unit() (7.3.1): the one-byte header (forbidden_zero_bit, nal_ref_idc, nal_unit_type), then the payload. */
function nalUnit(nalRefIdc: number, nalUnitType: number, rbsp: Uint8Array): Uint8Array {
  const payload = insertEmulationPrevention(rbsp);
  const unit = new Uint8Array(1 + payload.length);
  unit[0] = (nalRefIdc << 5) | nalUnitType;
  unit.set(payload, 1);
  return unit;
}

/** Big-endian bit writer for RBSP syntax: u(n), ue(v), se(v) (7.2, 9.1) and byte-aligned sample runs. */
class BitWriter {
  private bytes: Uint8Array;
  private length = 0;
  /** Bits written but not yet flushed to `bytes`, most significant first. */
  private pendingBits = 0;
  private pendingCount = 0;

  constructor(capacity: number) {
    this.bytes = new Uint8Array(capacity);
  }

  reset(): void {
    this.length = 0;
    this.pendingBits = 0;
    this.pendingCount = 0;
  }

  /** u(n) for n ≤ 32. */
  writeBits(value: number, count: number): void {
    for (let bit = count - 1; bit >= 0; bit--) {
      this.pendingBits = (this.pendingBits << 1) | ((value >>> bit) & 1);
      if (++this.pendingCount === 8) this.flushPendingByte();
    }
  }

  /** ue(v) (9.1): leading zeros, then codeNum + 1 in binary. */
  writeUnsignedExpGolomb(value: number): void {
    const codeNumPlusOne = value + 1;
    const significantBits = 32 - Math.clz32(codeNumPlusOne);
    this.writeBits(0, significantBits - 1);
    this.writeBits(codeNumPlusOne, significantBits);
  }

  /** se(v) (9.1.1): k > 0 maps to codeNum 2k − 1, k ≤ 0 to −2k. */
  writeSignedExpGolomb(value: number): void {
    this.writeUnsignedExpGolomb(value > 0 ? 2 * value - 1 : -2 * value);
  }

  /** Pads with zero bits up to the next byte boundary (pcm_alignment_zero_bit, rbsp_alignment_zero_bit). */
  alignWithZeros(): void {
    if (this.pendingCount > 0) this.writeBits(0, 8 - this.pendingCount);
  }

  /** Copies a `size`×`size` block of a plane, row by row, straight into the (byte-aligned) output. */
  writeAlignedBlock(plane: Uint8Array, stride: number, left: number, top: number, size: number): void {
    this.ensureCapacity(size * size);
    const bytes = this.bytes;
    let position = this.length;
    for (let row = top; row < top + size; row++) {
      const start = row * stride + left;
      for (let offset = start; offset < start + size; offset++) {
        bytes[position++] = plane[offset] ?? 0;
      }
    }
    this.length = position;
  }

  /** rbsp_trailing_bits() (7.3.2.11): the stop bit, zero-padded to a byte; returns the RBSP written so far. */
  finishRbsp(): Uint8Array {
    this.writeBits(1, 1);
    this.alignWithZeros();
    return this.bytes.subarray(0, this.length);
  }

  private flushPendingByte(): void {
    this.ensureCapacity(1);
    this.bytes[this.length++] = this.pendingBits & 0xff;
    this.pendingBits = 0;
    this.pendingCount = 0;
  }

  private ensureCapacity(extra: number): void {
    if (this.length + extra <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + extra));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }
}

interface Mp4Contents {
  readonly width: number;
  readonly height: number;
  readonly mediaTimescale: number;
  /** One NAL unit per sample (an IDR slice per frame). */
  readonly slices: readonly Uint8Array[];
  readonly sequenceParameterSet: Uint8Array;
  readonly pictureParameterSet: Uint8Array;
}

const UNITY_MATRIX = [0x0001_0000, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000] as const;

/**
 * Lays out the file (ISO 14496-12): `ftyp`, `moov`, `mdat`. With `moov` first, players can start before the whole
 * file has arrived; its `stco` offsets therefore depend on its own size, which does not depend on their values.
 * Each sample is its own chunk, so `stco` points at every sample.
 */
function writeMp4File(contents: Mp4Contents): Buffer {
  const sampleSizes = contents.slices.map((slice) => NAL_LENGTH_BYTES + slice.length);
  const payloadBytes = sampleSizes.reduce((total, size) => total + size, 0);

  const fileType = box(
    "ftyp",
    new FieldWriter().text("isom").u32(0x200).text("isom").text("iso2").text("avc1").text("mp41").toBuffer(),
  );
  const chunkOffsets = (firstSampleOffset: number): number[] => {
    let offset = firstSampleOffset;
    return sampleSizes.map((size) => {
      const chunkOffset = offset;
      offset += size;
      return chunkOffset;
    });
  };
  // The sizes are known first: build once with placeholder offsets to measure, then again with the real ones.
  const movieSize = movieBox(contents, sampleSizes, chunkOffsets(0)).length;
  const mediaDataStart = fileType.length + movieSize + 8;
  const fileSize = mediaDataStart + payloadBytes;
  if (fileSize > MAX_UINT32) {
    throw new RangeError(`The video would be ${fileSize} bytes; 32-bit chunk offsets (stco) allow 4 GiB at most.`);
  }
  const movie = movieBox(contents, sampleSizes, chunkOffsets(mediaDataStart));

  const file = Buffer.allocUnsafe(fileSize);
  let position = 0;
  for (const part of [fileType, movie]) {
    file.set(part, position);
    position += part.length;
  }
  position = file.writeUInt32BE(8 + payloadBytes, position);
  position += file.write("mdat", position, "latin1");
  for (const slice of contents.slices) {
    position = file.writeUInt32BE(slice.length, position);
    file.set(slice, position);
    position += slice.length;
  }
  return file;
}

function movieBox(contents: Mp4Contents, sampleSizes: readonly number[], chunkOffsets: readonly number[]): Buffer {
  const { width, height, mediaTimescale } = contents;
  const sampleCount = sampleSizes.length;
  const mediaDuration = sampleCount * MEDIA_TICKS_PER_FRAME;
  const movieDuration = Math.round((mediaDuration * MOVIE_TIMESCALE) / mediaTimescale);

  const movieHeader = fullBox(
    "mvhd",
    0,
    0,
    new FieldWriter()
      .u32(0) // creation_time
      .u32(0) // modification_time
      .u32(MOVIE_TIMESCALE)
      .u32(movieDuration)
      .u32(0x0001_0000) // rate 1.0
      .u16(0x0100) // volume 1.0
      .zeros(10) // reserved
      .u32s(UNITY_MATRIX)
      .zeros(24) // pre_defined
      .u32(2) // next_track_ID
      .toBuffer(),
  );
  // tkhd flags: track_enabled | track_in_movie.
  const trackHeader = fullBox(
    "tkhd",
    0,
    0x000003,
    new FieldWriter()
      .u32(0) // creation_time
      .u32(0) // modification_time
      .u32(1) // track_ID
      .u32(0) // reserved
      .u32(movieDuration)
      .zeros(8) // reserved
      .u16(0) // layer
      .u16(0) // alternate_group
      .u16(0) // volume: 0 for visual tracks
      .u16(0) // reserved
      .u32s(UNITY_MATRIX)
      .u32(width * 0x1_0000) // width, 16.16 fixed point
      .u32(height * 0x1_0000) // height, 16.16 fixed point
      .toBuffer(),
  );
  const mediaHeader = fullBox(
    "mdhd",
    0,
    0,
    new FieldWriter()
      .u32(0) // creation_time
      .u32(0) // modification_time
      .u32(mediaTimescale)
      .u32(mediaDuration)
      .u16(packLanguage("und"))
      .u16(0) // pre_defined
      .toBuffer(),
  );
  const handler = fullBox(
    "hdlr",
    0,
    0,
    new FieldWriter().u32(0).text("vide").zeros(12).text("VideoHandler\0").toBuffer(), // pre_defined, type, reserved, name
  );
  // vmhd flags must be 1; graphicsmode copy, opcolor 0.
  const videoMediaHeader = fullBox("vmhd", 0, 1, new FieldWriter().u16(0).zeros(6).toBuffer());
  // A single self-contained data reference (`url ` flag 1): the samples live in this file.
  const dataInformation = box(
    "dinf",
    fullBox("dref", 0, 0, new FieldWriter().u32(1).toBuffer(), fullBox("url ", 0, 1)),
  );
  const sampleTable = box(
    "stbl",
    sampleDescription(contents),
    // stts: every sample lasts one frame.
    fullBox("stts", 0, 0, new FieldWriter().u32(1).u32(sampleCount).u32(MEDIA_TICKS_PER_FRAME).toBuffer()),
    // stsc: from chunk 1 on, one sample per chunk, sample description 1. No stss: every sample is an IDR.
    fullBox("stsc", 0, 0, new FieldWriter().u32(1).u32(1).u32(1).u32(1).toBuffer()),
    fullBox("stsz", 0, 0, new FieldWriter().u32(0).u32(sampleCount).u32s(sampleSizes).toBuffer()),
    fullBox("stco", 0, 0, new FieldWriter().u32(chunkOffsets.length).u32s(chunkOffsets).toBuffer()),
  );
  const media = box("mdia", mediaHeader, handler, box("minf", videoMediaHeader, dataInformation, sampleTable));
  return box("moov", movieHeader, box("trak", trackHeader, media));
}

/** stsd with one `avc1` VisualSampleEntry (ISO 14496-12 12.1.3) carrying the `avcC` record (ISO 14496-15 5.3). */
function sampleDescription(contents: Mp4Contents): Buffer {
  const { sequenceParameterSet, pictureParameterSet } = contents;
  const compressorName = "Atelier I_PCM";
  const configuration = box(
    "avcC",
    new FieldWriter()
      .u8(1) // configurationVersion
      .u8(sequenceParameterSet[1] ?? 0) // AVCProfileIndication: profile_idc, copied from the SPS
      .u8(sequenceParameterSet[2] ?? 0) // profile_compatibility: the constraint flags byte
      .u8(sequenceParameterSet[3] ?? 0) // AVCLevelIndication: level_idc
      .u8(0xfc | (NAL_LENGTH_BYTES - 1)) // reserved 111111 + lengthSizeMinusOne
      .u8(0xe0 | 1) // reserved 111 + numOfSequenceParameterSets
      .u16(sequenceParameterSet.length)
      .bytes(sequenceParameterSet)
      .u8(1) // numOfPictureParameterSets
      .u16(pictureParameterSet.length)
      .bytes(pictureParameterSet)
      .toBuffer(),
  );
  const visualSampleEntry = box(
    "avc1",
    new FieldWriter()
      .zeros(6) // reserved
      .u16(1) // data_reference_index
      .zeros(16) // pre_defined, reserved, pre_defined[3]
      .u16(contents.width)
      .u16(contents.height)
      .u32(0x0048_0000) // horizresolution 72 dpi
      .u32(0x0048_0000) // vertresolution 72 dpi
      .u32(0) // reserved
      .u16(1) // frame_count: one frame per sample
      .u8(compressorName.length) // compressorname: a Pascal string in 32 bytes
      .text(compressorName)
      .zeros(31 - compressorName.length)
      .u16(0x0018) // depth: colour, no alpha
      .u16(0xffff) // pre_defined = -1
      .toBuffer(),
    configuration,
  );
  return fullBox("stsd", 0, 0, new FieldWriter().u32(1).toBuffer(), visualSampleEntry);
}

/** ISO 639-2/T code packed as three 5-bit letters (mdhd language). */
function packLanguage(code: string): number {
  let packed = 0;
  for (const letter of code) packed = (packed << 5) | ((letter.codePointAt(0) ?? 0x60) - 0x60);
  return packed;
}

/** A box (ISO 14496-12 4.2): 32-bit size, four-character type, then the payload. */
function box(type: string, ...payloads: readonly Uint8Array[]): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + payloads.reduce((total, payload) => total + payload.length, 0), 0);
  header.write(type, 4, "latin1");
  return Buffer.concat([header, ...payloads]);
}

/** A FullBox: a box whose payload starts with an 8-bit version and 24-bit flags. */
function fullBox(type: string, version: number, flags: number, ...payloads: readonly Uint8Array[]): Buffer {
  return box(type, Uint8Array.of(version, (flags >>> 16) & 0xff, (flags >>> 8) & 0xff, flags & 0xff), ...payloads);
}

/** Big-endian field builder for box payloads. */
class FieldWriter {
  private readonly values: number[] = [];

  u8(value: number): this {
    this.values.push(value & 0xff);
    return this;
  }

  u16(value: number): this {
    return this.u8(value >>> 8).u8(value);
  }

  u32(value: number): this {
    return this.u16(value >>> 16).u16(value & 0xffff);
  }

  u32s(values: readonly number[]): this {
    for (const value of values) this.u32(value);
    return this;
  }

  zeros(count: number): this {
    for (let index = 0; index < count; index++) this.values.push(0);
    return this;
  }

  /** Latin-1 text without a terminator (four-character codes and names). */
  text(value: string): this {
    for (const character of value) this.u8(character.codePointAt(0) ?? 0);
    return this;
  }

  bytes(value: Uint8Array): this {
    for (const byte of value) this.values.push(byte);
    return this;
  }

  toBuffer(): Buffer {
    return Buffer.from(this.values);
  }
}
