import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { ModelMismatchError, ModelMissingError } from '../common/errors';
import { sha256FileSync } from '../common/sha256';
import type { ResolvedSegmentationModel } from './resolve';
import { selectSegmentationVariant } from './segmentation-variants';
import { recipeHash } from './variants';

describe('selectSegmentationVariant', () => {
  const recipe = { method: 'dequantize' as const, parityMin: 0.95 };
  const sourceSha = 'a'.repeat(64);
  let dir: string;
  let savedModelsDir: string | undefined;
  let base: ResolvedSegmentationModel;

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'seg-variants-'));
    savedModelsDir = process.env.MODELS_DIR;
    process.env.MODELS_DIR = dir;
    base = {
      name: 'seg',
      path: path.join(dir, 'model.int8.onnx'),
      settings: { file: 'model.int8.onnx', sha256: sourceSha, variants: { float: { file: 'variants/seg/float.onnx', recipe } } },
    };
  });
  afterEach(() => {
    if (savedModelsDir === undefined) delete process.env.MODELS_DIR;
    else process.env.MODELS_DIR = savedModelsDir;
    rmSync(dir, { recursive: true, force: true });
  });

  function buildFloat(record: Partial<{ sourceSha256: string; recipeHash: string; sha256: string }> = {}): string {
    const file = path.join(dir, 'variants', 'seg', 'float.onnx');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, 'not really onnx, but hashed like one');
    const full = { sourceSha256: sourceSha, recipeHash: recipeHash(recipe), sha256: sha256FileSync(file), bytes: 36, ...record };
    writeFileSync(`${file}.build.json`, JSON.stringify(full));
    return file;
  }

  it('auto and int8 take the shipped file', () => {
    buildFloat();
    expect(selectSegmentationVariant(base, 'auto')).toMatchObject({ variant: 'int8', model: { path: base.path } });
    expect(selectSegmentationVariant(base, 'int8')).toMatchObject({ variant: 'int8', model: { path: base.path } });
  });

  it('float takes the built copy when its build record matches', () => {
    const file = buildFloat();
    expect(selectSegmentationVariant(base, 'float')).toMatchObject({ variant: 'float', model: { path: file } });
  });

  it('float that is not built says which command builds it', () => {
    expect(() => selectSegmentationVariant(base, 'float')).toThrow(ModelMissingError);
    expect(() => selectSegmentationVariant(base, 'float')).toThrow(/npm run models:build/);
  });

  it('float built from another source, or changed since, is refused', () => {
    buildFloat({ sourceSha256: 'b'.repeat(64) });
    expect(() => selectSegmentationVariant(base, 'float')).toThrow(ModelMismatchError);
    expect(() => selectSegmentationVariant(base, 'float')).toThrow(/hash mismatch/);
    buildFloat({ sha256: 'c'.repeat(64) });
    expect(() => selectSegmentationVariant(base, 'float')).toThrow(/changed or truncated/);
  });

  it('a model without a float variant in the manifest names the alternative', () => {
    const bare = { ...base, settings: { file: base.settings.file, sha256: sourceSha } };
    expect(() => selectSegmentationVariant(bare, 'float')).toThrow(/--segmentation-variant int8/);
  });

  it('mixed takes its own built copy, checked against its own recipe', () => {
    const mixedRecipe = { method: 'dequantize' as const, ops: ['ConvInteger', 'MatMulInteger'], parityMin: 0.95 };
    const withMixed: ResolvedSegmentationModel = {
      ...base,
      settings: { ...base.settings, variants: { ...base.settings.variants, mixed: { file: 'variants/seg/mixed.onnx', recipe: mixedRecipe } } },
    };
    expect(() => selectSegmentationVariant(withMixed, 'mixed')).toThrow(/mixed variant of seg .* is not built/);
    const file = path.join(dir, 'variants', 'seg', 'mixed.onnx');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, 'mixed, hashed like a model');
    const record = { sourceSha256: sourceSha, recipeHash: recipeHash(mixedRecipe), sha256: sha256FileSync(file), bytes: 26 };
    writeFileSync(`${file}.build.json`, JSON.stringify(record));
    expect(selectSegmentationVariant(withMixed, 'mixed')).toMatchObject({ variant: 'mixed', model: { path: file } });
    // Built with the float recipe (all ops): stale for mixed.
    writeFileSync(`${file}.build.json`, JSON.stringify({ ...record, recipeHash: recipeHash(recipe) }));
    expect(() => selectSegmentationVariant(withMixed, 'mixed')).toThrow(/another recipe/);
    // The float variant is not mixed's file.
    expect(() => selectSegmentationVariant(withMixed, 'float')).toThrow(ModelMissingError);
  });
});
