/**
 * Variants of the segmentation model: the shipped INT8 file; `float`, its weights dequantized by
 * `npm run models:build` (models/toolchain/dequantize.py) for CPUs whose int8 kernels are slow; or `mixed`,
 * its convolutions and matrix products dequantized and its LSTMs kept INT8 (onnxruntime's ConvInteger is
 * its slow part, its DynamicQuantizeLSTM faster than the float LSTM).
 */
import { ModelMismatchError, ModelMissingError } from '../common/errors';
import { findModelFile, ResolvedSegmentationModel } from './resolve';
import { BUILD_COMMAND, variantProblem } from './variants';

export const SEGMENTATION_VARIANT_CHOICES = ['int8', 'float', 'mixed', 'auto'] as const;
export type SegmentationVariantChoice = (typeof SEGMENTATION_VARIANT_CHOICES)[number];
export type SegmentationVariant = Exclude<SegmentationVariantChoice, 'auto'>;

/**
 * `auto` takes the shipped INT8. The float copy is faster per 10 s chunk on one thread (here, a CPU with
 * VNNI: 64.6 vs 81.1 ms in the build's interleaved timing), but not at equal DER: on the dev set (windows,
 * collar 0.25) 16.77 % against INT8's 15.94 %, beyond the ±0.1 point that would let it be the default.
 * Its powerset decision agrees with INT8's on 98.1 % of frames; most of the DER gap is one clip, ES2003a
 * (27.5 → 36.2 %: more missed speech and confusion). `--segmentation-variant float` chooses it.
 * `mixed` is faster still (here 20.5 vs 32.1 ms per chunk in the build's timing, 98.2 % frame agreement; 1 h of
 * dense speech at 2 threads 35 → 30 CPU-s), but scores 16.07 % (5 s step) against INT8's 12.38 %: EN2002a's
 * speaker count flips (confusion 3.9 → 28.3 %). `--segmentation-variant mixed` chooses it.
 */
export const DEFAULT_SEGMENTATION_VARIANT: SegmentationVariantChoice = 'auto';

export interface SegmentationSelection {
  model: ResolvedSegmentationModel;
  variant: SegmentationVariant;
  reason: string;
}

/** The file for `choice`; a missing or stale built copy fails naming the command that builds it. */
export function selectSegmentationVariant(base: ResolvedSegmentationModel, choice: SegmentationVariantChoice): SegmentationSelection {
  if (choice === 'int8' || choice === 'auto')
    return { model: base, variant: 'int8', reason: choice === 'auto' ? 'auto: the shipped INT8 (lower DER on the dev set)' : 'requested' };
  const entry = base.settings.variants?.[choice];
  if (!entry)
    throw new ModelMissingError(
      `${base.name} has no "${choice}" variant in models/manifest.json. Use --segmentation-variant int8, or add it and run \`${BUILD_COMMAND}\`.`,
    );
  const file = findModelFile(entry.file);
  if (!file)
    throw new ModelMissingError(
      `The ${choice} variant of ${base.name} (${entry.file}) is not built. Build it with \`${BUILD_COMMAND}\` (writes it to models/cache), or use --segmentation-variant int8.`,
    );
  const problem = variantProblem(file, base.settings.sha256, entry.recipe, `${choice} of ${base.name}`);
  if (problem) throw new ModelMismatchError(`${problem}. Rebuild it with \`${BUILD_COMMAND}\`.`);
  return { model: { ...base, path: file }, variant: choice, reason: 'requested' };
}
