import assert from "node:assert/strict";
import { encodeMp4, insertEmulationPrevention, type VideoFrameSource } from "./mp4-video.ts";

// A minimal ISO BMFF reader and H.264 bit reader, enough to check the file the way a demuxer and decoder would.

interface Box {
  readonly type: string;
  /** Offset of the box header within the buffer handed to parseBoxes, plus `base`. */
  readonly offset: number;
  readonly size: number;
  /** The payload after the 8-byte header. */
  readonly body: Buffer;
}

function parseBoxes(data: Buffer, base = 0): Box[] {
  const boxes: Box[] = [];
  let offset = 0;
  while (offset < data.length) {
    assert.ok(offset + 8 <= data.length, `truncated box header at ${base + offset}`);
    const size = data.readUInt32BE(offset);
    assert.ok(size >= 8 && offset + size <= data.length, `bad box size ${size} at ${base + offset}`);
    boxes.push({
      type: data.toString("latin1", offset + 4, offset + 8),
      offset: base + offset,
      size,
      body: data.subarray(offset + 8, offset + size),
    });
    offset += size;
  }
  return boxes;
}

/** The only child of `parent` with `type`; `skip` jumps over the fields before the children (FullBox, counts). */
function child(parent: Box, type: string, skip = 0): Box {
  const matches = parseBoxes(parent.body.subarray(skip), parent.offset + 8 + skip).filter((box) => box.type === type);
  assert.equal(matches.length, 1, `${parent.type} should hold one ${type}`);
  return matches[0]!;
}

function path(root: Box, ...types: string[]): Box {
  return types.reduce((parent, type) => child(parent, type), root);
}

/** Reverses emulation prevention (7.4.1): drops each 0x03 that follows two zero bytes. */
function unescapeNalPayload(payload: Uint8Array): Uint8Array {
  const rbsp: number[] = [];
  let zeros = 0;
  for (const byte of payload) {
    if (zeros >= 2 && byte === 3) {
      zeros = 0;
      continue;
    }
    rbsp.push(byte);
    zeros = byte === 0 ? zeros + 1 : 0;
  }
  return Uint8Array.from(rbsp);
}

class BitReader {
  private readonly bytes: Uint8Array;
  private position = 0;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  bits(count: number): number {
    let value = 0;
    for (let index = 0; index < count; index++) {
      const byte = this.bytes[this.position >> 3];
      assert.ok(byte !== undefined, "read past the end of the RBSP");
      value = value * 2 + ((byte >> (7 - (this.position & 7))) & 1);
      this.position++;
    }
    return value;
  }

  unsigned(): number {
    let leadingZeros = 0;
    while (this.bits(1) === 0) leadingZeros++;
    return 2 ** leadingZeros - 1 + this.bits(leadingZeros);
  }

  signed(): number {
    const codeNum = this.unsigned();
    return codeNum % 2 === 1 ? (codeNum + 1) / 2 : 0 - codeNum / 2;
  }

  get byteAligned(): boolean {
    return this.position % 8 === 0;
  }

  get byteOffset(): number {
    return this.position >> 3;
  }

  skipBytes(count: number): void {
    assert.ok(this.byteAligned);
    this.position += count * 8;
  }

  /** rbsp_trailing_bits: a one bit, zero bits to the byte boundary, and nothing after. */
  assertTrailingBits(): void {
    assert.equal(this.bits(1), 1, "rbsp_stop_one_bit");
    while (!this.byteAligned) assert.equal(this.bits(1), 0, "rbsp_alignment_zero_bit");
    assert.equal(this.byteOffset, this.bytes.length, "bytes after rbsp_trailing_bits");
  }
}

interface ParsedFile {
  readonly topLevel: Box[];
  readonly movie: Box;
  readonly mediaData: Box;
  readonly sampleTable: Box;
  /** Each sample's NAL unit, found through stsz/stco like a demuxer. */
  readonly samples: Buffer[];
  readonly sequenceParameterSet: Buffer;
  readonly pictureParameterSet: Buffer;
}

function parseFile(file: Buffer): ParsedFile {
  const topLevel = parseBoxes(file);
  const movie = topLevel.find((box) => box.type === "moov")!;
  const mediaData = topLevel.find((box) => box.type === "mdat")!;
  const sampleTable = path(movie, "trak", "mdia", "minf", "stbl");

  const stsz = child(sampleTable, "stsz").body;
  assert.equal(stsz.readUInt32BE(4), 0, "per-sample sizes");
  const sampleSizes = Array.from({ length: stsz.readUInt32BE(8) }, (_, index) => stsz.readUInt32BE(12 + 4 * index));
  const stco = child(sampleTable, "stco").body;
  const chunkOffsets = Array.from({ length: stco.readUInt32BE(4) }, (_, index) => stco.readUInt32BE(8 + 4 * index));
  assert.equal(chunkOffsets.length, sampleSizes.length, "one chunk per sample");
  const samples = chunkOffsets.map((offset, index) => {
    const size = sampleSizes[index]!;
    const nalLength = file.readUInt32BE(offset);
    assert.equal(nalLength, size - 4, `sample ${index} holds exactly one length-prefixed NAL unit`);
    return file.subarray(offset + 4, offset + size);
  });

  const avcC = child(path(sampleTable, "stsd"), "avc1", 8);
  const configuration = child(avcC, "avcC", 78).body;
  assert.equal(configuration[5]! & 0x1f, 1, "one SPS");
  const spsLength = configuration.readUInt16BE(6);
  const sequenceParameterSet = configuration.subarray(8, 8 + spsLength);
  assert.equal(configuration[8 + spsLength], 1, "one PPS");
  const ppsLength = configuration.readUInt16BE(9 + spsLength);
  const pictureParameterSet = configuration.subarray(11 + spsLength, 11 + spsLength + ppsLength);
  assert.equal(configuration.length, 11 + spsLength + ppsLength, "no trailing avcC bytes (profile 66)");
  return { topLevel, movie, mediaData, sampleTable, samples, sequenceParameterSet, pictureParameterSet };
}

interface SequenceParameterSet {
  readonly profileIdc: number;
  readonly constraintFlags: number;
  readonly levelIdc: number;
  readonly log2MaxFrameNum: number;
  readonly picOrderCntType: number;
  readonly maxNumRefFrames: number;
  readonly widthInMacroblocks: number;
  readonly heightInMacroblocks: number;
  readonly frameMbsOnly: number;
}

function parseSequenceParameterSet(unit: Uint8Array): SequenceParameterSet {
  assert.equal(unit[0], 0x67, "nal_ref_idc 3, nal_unit_type 7");
  const reader = new BitReader(unescapeNalPayload(unit.subarray(1)));
  const profileIdc = reader.bits(8);
  const constraintFlags = reader.bits(8);
  const levelIdc = reader.bits(8);
  assert.equal(reader.unsigned(), 0, "seq_parameter_set_id");
  const log2MaxFrameNum = reader.unsigned() + 4;
  const picOrderCntType = reader.unsigned();
  const maxNumRefFrames = reader.unsigned();
  assert.equal(reader.bits(1), 0, "gaps_in_frame_num_value_allowed_flag");
  const widthInMacroblocks = reader.unsigned() + 1;
  const heightInMacroblocks = reader.unsigned() + 1;
  const frameMbsOnly = reader.bits(1);
  reader.bits(1); // direct_8x8_inference_flag
  assert.equal(reader.bits(1), 0, "frame_cropping_flag");
  assert.equal(reader.bits(1), 1, "vui_parameters_present_flag");
  assert.equal(reader.bits(1), 0, "aspect_ratio_info_present_flag");
  assert.equal(reader.bits(1), 0, "overscan_info_present_flag");
  assert.equal(reader.bits(1), 1, "video_signal_type_present_flag");
  reader.bits(3); // video_format
  assert.equal(reader.bits(1), 0, "video_full_range_flag: limited range");
  assert.equal(reader.bits(1), 1, "colour_description_present_flag");
  assert.deepEqual([reader.bits(8), reader.bits(8), reader.bits(8)], [6, 6, 6], "BT.601 colour description");
  assert.equal(reader.bits(1), 0, "chroma_loc_info_present_flag");
  assert.equal(reader.bits(1), 1, "timing_info_present_flag");
  reader.bits(32); // num_units_in_tick
  reader.bits(32); // time_scale
  reader.bits(1); // fixed_frame_rate_flag
  assert.equal(reader.bits(3), 0, "no HRD parameters, no pic_struct");
  assert.equal(reader.bits(1), 1, "bitstream_restriction_flag");
  reader.bits(1); // motion_vectors_over_pic_boundaries_flag
  assert.equal(reader.unsigned(), 0, "max_bytes_per_pic_denom: unlimited");
  assert.equal(reader.unsigned(), 0, "max_bits_per_mb_denom: unlimited");
  reader.unsigned(); // log2_max_mv_length_horizontal
  reader.unsigned(); // log2_max_mv_length_vertical
  assert.equal(reader.unsigned(), 0, "max_num_reorder_frames");
  assert.ok(reader.unsigned() >= maxNumRefFrames, "max_dec_frame_buffering");
  reader.assertTrailingBits();
  return {
    profileIdc,
    constraintFlags,
    levelIdc,
    log2MaxFrameNum,
    picOrderCntType,
    maxNumRefFrames,
    widthInMacroblocks,
    heightInMacroblocks,
    frameMbsOnly,
  };
}

interface DecodedPicture {
  readonly idrPicId: number;
  readonly luma: Uint8Array;
  readonly blueDifference: Uint8Array;
  readonly redDifference: Uint8Array;
}

/** Decodes one IDR slice of I_PCM macroblocks back into its planes, checking every header field on the way. */
function decodeSlice(unit: Uint8Array, sps: SequenceParameterSet): DecodedPicture {
  assert.equal(unit[0], 0x65, "nal_ref_idc 3, nal_unit_type 5 (IDR)");
  const reader = new BitReader(unescapeNalPayload(unit.subarray(1)));
  assert.equal(reader.unsigned(), 0, "first_mb_in_slice");
  assert.equal(reader.unsigned(), 7, "slice_type: I (all slices)");
  assert.equal(reader.unsigned(), 0, "pic_parameter_set_id");
  assert.equal(reader.bits(sps.log2MaxFrameNum), 0, "frame_num");
  const idrPicId = reader.unsigned();
  assert.equal(reader.bits(1), 0, "no_output_of_prior_pics_flag");
  assert.equal(reader.bits(1), 0, "long_term_reference_flag");
  assert.equal(reader.signed(), 0, "slice_qp_delta");
  assert.equal(reader.unsigned(), 1, "disable_deblocking_filter_idc");

  const width = sps.widthInMacroblocks * 16;
  const height = sps.heightInMacroblocks * 16;
  const luma = new Uint8Array(width * height);
  const blueDifference = new Uint8Array((width / 2) * (height / 2));
  const redDifference = new Uint8Array((width / 2) * (height / 2));
  const readBlock = (plane: Uint8Array, stride: number, left: number, top: number, size: number): void => {
    for (let row = 0; row < size; row++) {
      for (let column = 0; column < size; column++) {
        plane[(top + row) * stride + left + column] = reader.bits(8);
      }
    }
  };
  for (let top = 0; top < height; top += 16) {
    for (let left = 0; left < width; left += 16) {
      assert.equal(reader.unsigned(), 25, `mb_type I_PCM at ${left},${top}`);
      while (!reader.byteAligned) assert.equal(reader.bits(1), 0, "pcm_alignment_zero_bit");
      readBlock(luma, width, left, top, 16);
      readBlock(blueDifference, width / 2, left / 2, top / 2, 8);
      readBlock(redDifference, width / 2, left / 2, top / 2, 8);
    }
  }
  reader.assertTrailingBits();
  return { idrPicId, luma, blueDifference, redDifference };
}

/** BT.601 limited range, in floating point, as the reference for the encoder's integer arithmetic. */
function expectedYuv(red: number, green: number, blue: number): [luma: number, cb: number, cr: number] {
  return [
    16 + (65.481 * red + 128.553 * green + 24.966 * blue) / 255,
    128 + (-37.797 * red - 74.203 * green + 112 * blue) / 255,
    128 + (112 * red - 93.786 * green - 18.214 * blue) / 255,
  ];
}

/**
 * 7.4.1: after two zero bytes, a NAL unit payload holds neither 00, 01 nor 02, and 03 only as an
 * emulation_prevention_three_byte, which is always followed by a byte 00-03 (or nothing but cabac_zero_words).
 */
function assertNoStartCodeEmulation(payload: Uint8Array, label: string): void {
  for (let index = 2; index < payload.length; index++) {
    if (payload[index - 2] !== 0 || payload[index - 1] !== 0) continue;
    const byte = payload[index]!;
    assert.ok(byte >= 3, `${label}: 00 00 0${byte} at ${index}`);
    if (byte === 3 && index + 1 < payload.length) assert.ok(payload[index + 1]! <= 3, `${label}: stray 03 at ${index}`);
  }
}

/** Solid colours, one per frame, so both luma and chroma have known values. */
const COLOURS: readonly (readonly [number, number, number])[] = [
  [255, 0, 0],
  [0, 255, 0],
  [0, 0, 255],
  [255, 255, 255],
  [0, 0, 0],
  [18, 200, 140],
];

function solidColourSource(width: number, height: number, framesPerSecond = 8): VideoFrameSource {
  return {
    width,
    height,
    frameCount: COLOURS.length,
    framesPerSecond,
    drawFrame(index, rgba) {
      const [red, green, blue] = COLOURS[index]!;
      for (let offset = 0; offset < rgba.length; offset += 4) rgba.set([red, green, blue, 255], offset);
    },
  };
}

/** A grey ramp that differs at every pixel position within a macroblock row, to pin down sample order. */
function greyRampSource(width: number, height: number, frameCount: number): VideoFrameSource {
  return {
    width,
    height,
    frameCount,
    framesPerSecond: 8,
    drawFrame(index, rgba) {
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const grey = (x * 3 + y * 7 + index * 11) % 256;
          rgba.set([grey, grey, grey, 255], (y * width + x) * 4);
        }
      }
    },
  };
}

describe("encodeMp4", () => {
  const width = 48;
  const height = 32;
  let file: Buffer;
  let parsed: ParsedFile;
  before(() => {
    file = encodeMp4(solidColourSource(width, height));
    parsed = parseFile(file);
  });

  it("writes ftyp, then moov, then mdat, covering the whole file", () => {
    assert.deepEqual(
      parsed.topLevel.map((box) => box.type),
      ["ftyp", "moov", "mdat"],
    );
    assert.equal(
      parsed.topLevel.reduce((total, box) => total + box.size, 0),
      file.length,
    );
    const fileType = parsed.topLevel[0]!.body;
    assert.equal(fileType.toString("latin1", 0, 4), "isom", "major_brand");
    const compatible = fileType.toString("latin1", 8);
    for (const brand of ["isom", "avc1", "mp41"]) assert.ok(compatible.includes(brand), brand);
  });

  it("describes one video track with the source's size, timescale and duration", () => {
    const movieHeader = child(parsed.movie, "mvhd").body;
    const movieTimescale = movieHeader.readUInt32BE(12);
    assert.equal(movieHeader.readUInt32BE(16) / movieTimescale, COLOURS.length / 8, "mvhd duration in seconds");

    const trackHeader = child(child(parsed.movie, "trak"), "tkhd").body;
    assert.equal(trackHeader.readUInt32BE(0) & 0xffffff, 3, "track enabled and in movie");
    assert.equal(trackHeader.readUInt32BE(12), 1, "track_ID");
    assert.equal(trackHeader.readUInt32BE(20) / movieTimescale, COLOURS.length / 8, "tkhd duration");
    assert.equal(trackHeader.readUInt32BE(76), width * 65536, "tkhd width 16.16");
    assert.equal(trackHeader.readUInt32BE(80), height * 65536, "tkhd height 16.16");

    const mediaHeader = path(parsed.movie, "trak", "mdia", "mdhd").body;
    const mediaTimescale = mediaHeader.readUInt32BE(12);
    assert.equal(mediaHeader.readUInt32BE(16) / mediaTimescale, COLOURS.length / 8, "mdhd duration");
    assert.equal(path(parsed.movie, "trak", "mdia", "hdlr").body.toString("latin1", 8, 12), "vide");

    const timeToSample = child(parsed.sampleTable, "stts").body;
    assert.equal(timeToSample.readUInt32BE(4), 1, "one stts entry");
    assert.equal(timeToSample.readUInt32BE(8), COLOURS.length, "sample_count");
    assert.equal(timeToSample.readUInt32BE(12) / mediaTimescale, 1 / 8, "sample_delta is one frame");

    const sampleEntry = child(child(parsed.sampleTable, "stsd"), "avc1", 8).body;
    assert.equal(sampleEntry.readUInt16BE(24), width, "avc1 width");
    assert.equal(sampleEntry.readUInt16BE(26), height, "avc1 height");
  });

  it("indexes every sample: stsz sizes fill mdat and stco points at each length-prefixed NAL unit", () => {
    assert.equal(parsed.samples.length, COLOURS.length);
    const sampleToChunk = child(parsed.sampleTable, "stsc").body;
    assert.deepEqual(
      [1, 2, 3, 4].map((field) => sampleToChunk.readUInt32BE(field * 4)),
      [1, 1, 1, 1],
      "one entry: one sample per chunk",
    );
    const sizes = parsed.samples.map((sample) => sample.length + 4);
    assert.equal(
      sizes.reduce((total, size) => total + size, 0),
      parsed.mediaData.size - 8,
      "mdat payload",
    );
    const stco = child(parsed.sampleTable, "stco").body;
    let expectedOffset = parsed.mediaData.offset + 8;
    parsed.samples.forEach((_, index) => {
      assert.equal(stco.readUInt32BE(8 + 4 * index), expectedOffset, `chunk ${index} offset`);
      expectedOffset += sizes[index]!;
    });
    assert.ok(
      parseBoxes(parsed.sampleTable.body).every((box) => box.type !== "stss"),
      "no stss: all samples are sync samples",
    );
  });

  it("carries the Constrained Baseline SPS and the CAVLC PPS in avcC", () => {
    const configuration = child(child(child(parsed.sampleTable, "stsd"), "avc1", 8), "avcC", 78).body;
    const sps = parseSequenceParameterSet(parsed.sequenceParameterSet);
    assert.deepEqual([...configuration.subarray(0, 5)], [1, 66, sps.constraintFlags, sps.levelIdc, 0xff]);
    assert.equal(sps.profileIdc, 66);
    assert.equal(sps.constraintFlags & 0x40, 0x40, "constraint_set1_flag: Constrained Baseline");
    assert.equal(sps.picOrderCntType, 2);
    assert.equal(sps.frameMbsOnly, 1);
    assert.equal(sps.widthInMacroblocks, width / 16);
    assert.equal(sps.heightInMacroblocks, height / 16);

    assert.equal(parsed.pictureParameterSet[0], 0x68, "nal_ref_idc 3, nal_unit_type 8");
    const reader = new BitReader(unescapeNalPayload(parsed.pictureParameterSet.subarray(1)));
    assert.equal(reader.unsigned(), 0, "pic_parameter_set_id");
    assert.equal(reader.unsigned(), 0, "seq_parameter_set_id");
    assert.equal(reader.bits(1), 0, "entropy_coding_mode_flag: CAVLC");
    assert.equal(reader.bits(1), 0, "bottom_field_pic_order_in_frame_present_flag");
    assert.equal(reader.unsigned(), 0, "num_slice_groups_minus1");
    assert.equal(reader.unsigned(), 0, "num_ref_idx_l0_default_active_minus1");
    assert.equal(reader.unsigned(), 0, "num_ref_idx_l1_default_active_minus1");
    assert.equal(reader.bits(3), 0, "weighted prediction off");
    assert.deepEqual([reader.signed(), reader.signed(), reader.signed()], [0, 0, 0], "QP offsets");
    assert.equal(reader.bits(1), 1, "deblocking_filter_control_present_flag");
    assert.equal(reader.bits(2), 0, "constrained_intra_pred_flag, redundant_pic_cnt_present_flag");
    reader.assertTrailingBits();
  });

  it("codes each frame as an IDR picture of I_PCM macroblocks in BT.601 limited range", () => {
    const sps = parseSequenceParameterSet(parsed.sequenceParameterSet);
    parsed.samples.forEach((sample, index) => {
      const picture = decodeSlice(sample, sps);
      assert.equal(picture.idrPicId, index % 2, "consecutive IDR pictures differ in idr_pic_id");
      const [red, green, blue] = COLOURS[index]!;
      const [luma, cb, cr] = expectedYuv(red, green, blue);
      for (const [plane, expected, name] of [
        [picture.luma, luma, "Y"],
        [picture.blueDifference, cb, "Cb"],
        [picture.redDifference, cr, "Cr"],
      ] as const) {
        for (const sample of plane) assert.ok(Math.abs(sample - expected) <= 1, `${name} ${sample} ≈ ${expected}`);
      }
    });
  });

  it("keeps every sample in raster order within and across macroblocks", () => {
    const rampWidth = 64;
    const rampHeight = 48;
    const ramp = parseFile(encodeMp4(greyRampSource(rampWidth, rampHeight, 2)));
    const sps = parseSequenceParameterSet(ramp.sequenceParameterSet);
    ramp.samples.forEach((sample, index) => {
      const picture = decodeSlice(sample, sps);
      for (let y = 0; y < rampHeight; y++) {
        for (let x = 0; x < rampWidth; x++) {
          const grey = (x * 3 + y * 7 + index * 11) % 256;
          const actual = picture.luma[y * rampWidth + x]!;
          assert.ok(Math.abs(actual - expectedYuv(grey, grey, grey)[0]) <= 1, `Y at ${x},${y}: ${actual}`);
        }
      }
      assert.ok(
        picture.blueDifference.every((value) => value === 128),
        "grey has neutral Cb",
      );
      assert.ok(
        picture.redDifference.every((value) => value === 128),
        "grey has neutral Cr",
      );
    });
  });

  it("averages each 2x2 block for chroma", () => {
    const source: VideoFrameSource = {
      width: 16,
      height: 16,
      frameCount: 1,
      framesPerSecond: 1,
      drawFrame(_index, rgba) {
        // Alternate red and blue columns: every 2x2 block averages to (127.5, 0, 127.5).
        for (let pixel = 0; pixel < 256; pixel++)
          rgba.set(pixel % 2 === 0 ? [255, 0, 0, 255] : [0, 0, 255, 255], pixel * 4);
      },
    };
    const single = parseFile(encodeMp4(source));
    const picture = decodeSlice(single.samples[0]!, parseSequenceParameterSet(single.sequenceParameterSet));
    const [, cb, cr] = expectedYuv(127.5, 0, 127.5);
    assert.ok(picture.blueDifference.every((value) => Math.abs(value - cb) <= 1));
    assert.ok(picture.redDifference.every((value) => Math.abs(value - cr) <= 1));
  });

  it("leaves no start code emulation (00 00 0x, x <= 3) in any NAL unit", () => {
    assertNoStartCodeEmulation(parsed.sequenceParameterSet.subarray(1), "SPS");
    assertNoStartCodeEmulation(parsed.pictureParameterSet.subarray(1), "PPS");
    parsed.samples.forEach((unit, index) => {
      // Limited-range samples are never below 16, so slices need no escaping at all: not even 00 00 03.
      for (let offset = 2; offset < unit.length; offset++) {
        const startCodeLike = unit[offset - 2] === 0 && unit[offset - 1] === 0 && unit[offset]! <= 3;
        assert.ok(!startCodeLike, `slice ${index}: 00 00 0${unit[offset]} at ${offset}`);
      }
    });
  });

  it("chooses the level from the frame size, frame rate and bit rate", () => {
    const levelOf = (source: VideoFrameSource): number =>
      parseSequenceParameterSet(parseFile(encodeMp4(source)).sequenceParameterSet).levelIdc;
    assert.equal(levelOf({ ...solidColourSource(16, 16, 1), frameCount: 1 }), 10);
    // 240 macroblocks × 386 bytes × 8 fps ≈ 5.9 Mbit/s: beyond level 2.2's 4 Mbit/s, within 3.0's 10 Mbit/s.
    assert.equal(levelOf({ ...solidColourSource(320, 192, 8), frameCount: 1 }), 30);
    // 8160 macroblocks at 30 fps fits level 4.0's MaxFS/MaxMBPS; no level carries uncompressed 1080p's bit rate.
    assert.equal(levelOf({ ...solidColourSource(1920, 1088, 30), frameCount: 1 }), 40);
  });

  it("rejects sizes that are not whole macroblocks, empty clips and bad frame rates", () => {
    const base = solidColourSource(32, 32);
    for (const invalid of [
      { ...base, width: 30 },
      { ...base, height: 0 },
      { ...base, width: 16.5 },
      { ...base, frameCount: 0 },
      { ...base, frameCount: 1.5 },
      { ...base, framesPerSecond: 0 },
      { ...base, framesPerSecond: Number.NaN },
      { ...base, width: 16 * 1024 },
    ]) {
      assert.throws(() => encodeMp4(invalid), RangeError);
    }
  });

  it("hands drawFrame a zeroed buffer of width × height × 4 bytes for each index in order", () => {
    const calls: number[] = [];
    encodeMp4({
      width: 32,
      height: 16,
      frameCount: 3,
      framesPerSecond: 24,
      drawFrame(index, rgba) {
        assert.equal(rgba.length, 32 * 16 * 4);
        assert.ok(
          rgba.every((byte) => byte === 0),
          "zeroed",
        );
        calls.push(index);
        rgba.fill(200);
      },
    });
    assert.deepEqual(calls, [0, 1, 2]);
  });
});

describe("insertEmulationPrevention", () => {
  it("inserts 0x03 after two zero bytes before 0x00-0x03, and nowhere else", () => {
    const rbsp = Uint8Array.of(0, 0, 0, 0, 1, 0, 0, 3, 0, 0, 4, 0, 0, 2, 0, 0);
    assert.deepEqual(
      [...insertEmulationPrevention(rbsp)],
      [0, 0, 3, 0, 0, 3, 1, 0, 0, 3, 3, 0, 0, 4, 0, 0, 3, 2, 0, 0],
    );
    assert.deepEqual([...insertEmulationPrevention(Uint8Array.of(1, 0, 5, 0, 0, 9))], [1, 0, 5, 0, 0, 9]);
  });

  it("round-trips zero-heavy data without leaving any start code emulation", () => {
    let state = 12345;
    const rbsp = Uint8Array.from({ length: 4096 }, () => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state % 3 === 0 ? state % 5 : 0;
    });
    rbsp[rbsp.length - 1] = 0x80; // an RBSP ends with its stop bit
    const payload = insertEmulationPrevention(rbsp);
    assert.ok(payload.length > rbsp.length);
    assertNoStartCodeEmulation(payload, "payload");
    assert.deepEqual(unescapeNalPayload(payload), rbsp);
  });
});
