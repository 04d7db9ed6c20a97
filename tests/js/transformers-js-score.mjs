// Test-only (TransformersJsTests): Hugging Face's transformers.js loads a model folder as a JavaScript user would —
// AutoTokenizer from tokenizer.json / tokenizer_config.json, the model from onnx/model.onnx (Optimum's layout) — and
// reports what it computes, so the C# side can compare it with Bert.Sharp's own results.
//
//   node transformers-js-score.mjs REQUEST.json RESULT.json
//
// REQUEST: { "folder": "/abs/path", "task": "sequence-classification" | "token-classification" | "feature-extraction",
//            "dtype": "fp32" | "q8", "texts": ["..."] }
// RESULT:  { "tokenizer": class name, "ids": [[...] per text],
//            "probabilities": [[...] per text: labels, tokens × labels, or (feature-extraction) the mean-pooled,
//            L2-normalised embedding], "batchProbabilities": the same texts run as one padded batch,
//            "pipeline": text-classification's labels and scores }
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  env,
  AutoTokenizer,
  AutoModelForSequenceClassification,
  AutoModelForTokenClassification,
  pipeline,
} from '@huggingface/transformers';

const [requestPath, resultPath] = process.argv.slice(2);
if (!requestPath || !resultPath) {
  console.error('usage: node transformers-js-score.mjs REQUEST.json RESULT.json');
  process.exit(2);
}

const request = JSON.parse(readFileSync(requestPath, 'utf8'));
const folder = path.resolve(request.folder);

// Local files only: the folder is the model id under its parent directory.
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = path.dirname(folder);
const modelId = path.basename(folder);
const loadOptions = { dtype: request.dtype ?? 'fp32', local_files_only: true };

function softmax(values) {
  const max = Math.max(...values);
  const exps = values.map((v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

// Softmax over the last axis of a logits tensor, row by row: [labels] for a sequence, [tokens × labels] for tokens.
function rowSoftmax(logits, row) {
  const labels = logits.dims[logits.dims.length - 1];
  const perRow = logits.dims.slice(1).reduce((a, b) => a * b, 1);
  const data = Array.from(logits.data.slice(row * perRow, (row + 1) * perRow));
  const out = [];
  for (let i = 0; i < data.length; i += labels) {
    out.push(...softmax(data.slice(i, i + labels)));
  }
  return out;
}

const tokenizer = await AutoTokenizer.from_pretrained(modelId, { local_files_only: true });
const result = { tokenizer: tokenizer.constructor.name, ids: [], probabilities: [], batchProbabilities: [], pipeline: [] };
for (const text of request.texts) {
  result.ids.push(Array.from(tokenizer(text).input_ids.data, Number));
}

// Sentence embeddings as a transformers.js user computes them: the feature-extraction pipeline, mean-pooled over the
// attention mask and L2-normalised.
if (request.task === 'feature-extraction') {
  const extract = await pipeline('feature-extraction', modelId, loadOptions);
  const options = { pooling: 'mean', normalize: true };
  for (const text of request.texts) {
    result.probabilities.push(Array.from((await extract(text, options)).data));
  }

  const batch = await extract(request.texts, options);
  const width = batch.dims[1];
  for (let row = 0; row < request.texts.length; row++) {
    result.batchProbabilities.push(Array.from(batch.data.slice(row * width, (row + 1) * width)));
  }

  writeFileSync(resultPath, JSON.stringify(result));
  process.exit(0);
}

const ModelClass = request.task === 'token-classification' ? AutoModelForTokenClassification : AutoModelForSequenceClassification;
const model = await ModelClass.from_pretrained(modelId, loadOptions);

for (const text of request.texts) {
  const { logits } = await model(tokenizer(text));
  result.probabilities.push(rowSoftmax(logits, 0));
}

// The same texts as one batch padded with the tokenizer's pad token: the attention mask must hide the padding.
if (request.texts.length > 0) {
  const batch = tokenizer(request.texts, { padding: true });
  const { logits } = await model(batch);
  const length = batch.input_ids.dims[1];
  for (let row = 0; row < request.texts.length; row++) {
    const probabilities = rowSoftmax(logits, row);
    // Token classification: keep the real tokens only (right padding), to compare with the unpadded run.
    const real = result.ids[row].length;
    const labels = probabilities.length / length;
    result.batchProbabilities.push(request.task === 'token-classification' ? probabilities.slice(0, real * labels) : probabilities);
  }
}

if (request.task !== 'token-classification') {
  const classify = await pipeline('text-classification', modelId, loadOptions);
  for (const text of request.texts) {
    result.pipeline.push(await classify(text, { top_k: null }));
  }
}

writeFileSync(resultPath, JSON.stringify(result));
