#!/usr/bin/env python3
"""A plain-PyTorch mirror of Hugging Face transformers' BERT, RoBERTa / XLM-RoBERTa, DistilBERT and ModernBERT forward passes, to prove that a folder saved by Bert.Sharp
means the same thing in Python (transformers itself is not installable on the machines this project runs on).

It reads only what transformers reads: config.json, model.safetensors (header parsed with json/numpy), and for
model_type "bert_sharp" the modeling_bert_sharp.py saved next to them (what trust_remote_code=True would run), and it
dispatches the way AutoModelFor*.from_pretrained does: by model_type and architectures.

A folder holding adapter_config.json is a PEFT LoRA adapter: it is read as PeftModel.from_pretrained(base, folder) reads
it (load_peft_folder): the base named by base_model_name_or_path, W + scaling * B @ A on every module target_modules picks
(eval mode, so the merged weight computes what the unmerged LoRA forward does), modules_to_save replaced.

Usage: hf_mirror.py requests.json   (a list of {"folder", "task", "input_ids", "attention_mask", "token_type_ids"})
Prints a JSON list of {"folder", "output": [[...]]}: logits for classifiers, embeddings for sentence-transformers folders.
"""
import importlib.util
import json
import math
import os
import re
import struct
import sys

import numpy as np
import torch

DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64, "I32": np.int32}


def load_safetensors(path):
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
        data = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        if info["dtype"] == "BF16":
            raw = np.frombuffer(data[begin:end], dtype=np.uint16).astype(np.uint32) << 16
            array = raw.view(np.float32)
        else:
            array = np.frombuffer(data[begin:end], dtype=DTYPES[info["dtype"]])
        tensors[name] = torch.from_numpy(array.copy().reshape(info["shape"])).float()
    return tensors


def gelu(x, kind):
    if kind == "gelu":
        return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))
    if kind in ("gelu_new", "gelu_pytorch_tanh", "gelu_fast"):
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x.pow(3))))
    if kind == "relu":
        return torch.relu(x)
    if kind in ("silu", "swish"):
        return x * torch.sigmoid(x)
    raise ValueError(f"hidden_act {kind}")


def linear(x, w, prefix):
    return x @ w[prefix + ".weight"].t() + w[prefix + ".bias"]


def layer_norm(x, w, prefix, eps):
    return torch.nn.functional.layer_norm(x, (x.shape[-1],), w[prefix + ".weight"], w[prefix + ".bias"], eps)


def bert_model(w, p, config, input_ids, attention_mask, token_type_ids, pooler):
    """transformers' BertModel.forward in eval mode (dropout off), returning (last_hidden_state, pooler_output)."""
    eps = config.get("layer_norm_eps", 1e-12)
    heads = config["num_attention_heads"]
    hidden = config["hidden_size"]
    size = hidden // heads
    seq = input_ids.shape[1]
    positions = torch.arange(seq).unsqueeze(0)
    x = w[p + "embeddings.word_embeddings.weight"][input_ids] + w[p + "embeddings.position_embeddings.weight"][positions] \
        + w[p + "embeddings.token_type_embeddings.weight"][token_type_ids]
    x = layer_norm(x, w, p + "embeddings.LayerNorm", eps)
    extended = (1.0 - attention_mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
    for i in range(config["num_hidden_layers"]):
        q = f"{p}encoder.layer.{i}."

        def split(t):
            return t.view(t.shape[0], seq, heads, size).permute(0, 2, 1, 3)

        query = split(linear(x, w, q + "attention.self.query"))
        key = split(linear(x, w, q + "attention.self.key"))
        value = split(linear(x, w, q + "attention.self.value"))
        scores = query @ key.transpose(-1, -2) / math.sqrt(size) + extended
        context = (torch.softmax(scores, dim=-1) @ value).permute(0, 2, 1, 3).reshape(x.shape[0], seq, hidden)
        attended = layer_norm(linear(context, w, q + "attention.output.dense") + x, w, q + "attention.output.LayerNorm", eps)
        inner = gelu(linear(attended, w, q + "intermediate.dense"), config.get("hidden_act", "gelu"))
        x = layer_norm(linear(inner, w, q + "output.dense") + attended, w, q + "output.LayerNorm", eps)
    pooled = torch.tanh(linear(x[:, 0], w, p + "pooler.dense")) if pooler else None
    return x, pooled


def encoder_layers(w, p, x, attention_mask, layers, heads, eps, act):
    """BertEncoder / RobertaEncoder (modeling_bert.py, modeling_roberta.py): the same post-LayerNorm layer."""
    batch, seq, hidden = x.shape
    size = hidden // heads
    extended = (1.0 - attention_mask[:, None, None, :].float()) * torch.finfo(torch.float32).min

    def split(t):
        return t.view(batch, seq, heads, size).permute(0, 2, 1, 3)

    for i in range(layers):
        q = f"{p}encoder.layer.{i}."
        query = split(linear(x, w, q + "attention.self.query"))
        key = split(linear(x, w, q + "attention.self.key"))
        value = split(linear(x, w, q + "attention.self.value"))
        scores = query @ key.transpose(-1, -2) / math.sqrt(size) + extended
        context = (torch.softmax(scores, dim=-1) @ value).permute(0, 2, 1, 3).reshape(batch, seq, hidden)
        attended = layer_norm(linear(context, w, q + "attention.output.dense") + x, w, q + "attention.output.LayerNorm", eps)
        inner = gelu(linear(attended, w, q + "intermediate.dense"), act)
        x = layer_norm(linear(inner, w, q + "output.dense") + attended, w, q + "output.LayerNorm", eps)
    return x


def roberta_model(w, config, input_ids, attention_mask):
    """RobertaModel.forward (add_pooling_layer=False, as the task heads build it) in eval mode; XLM-RoBERTa is the same
    module. Positions: create_position_ids_from_input_ids (cumsum of non-padding tokens, offset by padding_idx); token
    types: the registered zero buffer (type 0 everywhere)."""
    p = "roberta."
    pad = config.get("pad_token_id", 1)
    eps = config.get("layer_norm_eps", 1e-12)
    not_pad = input_ids.ne(pad).int()
    positions = (torch.cumsum(not_pad, dim=1).type_as(not_pad) * not_pad).long() + pad
    types = torch.zeros_like(input_ids)
    x = w[p + "embeddings.word_embeddings.weight"][input_ids] + w[p + "embeddings.position_embeddings.weight"][positions] \
        + w[p + "embeddings.token_type_embeddings.weight"][types]
    x = layer_norm(x, w, p + "embeddings.LayerNorm", eps)
    return encoder_layers(w, p, x, attention_mask, config["num_hidden_layers"], config["num_attention_heads"], eps, config.get("hidden_act", "gelu"))


def distilbert_model(w, config, input_ids, attention_mask):
    """DistilBertModel.forward (modeling_distilbert.py) in eval mode: learned positions from 0, no token types; each
    TransformerBlock is sa_layer_norm(attention(x) + x) then output_layer_norm(ffn(h) + h), every LayerNorm eps 1e-12;
    the attention scales the query by 1/sqrt(head size) and fills masked scores with the dtype's minimum."""
    if config.get("sinusoidal_pos_embds"):
        raise SystemExit("sinusoidal_pos_embds is not mirrored")
    p = "distilbert."
    dim = config["dim"]
    heads = config["n_heads"]
    size = dim // heads
    eps = 1e-12
    batch, seq = input_ids.shape
    positions = torch.arange(seq).unsqueeze(0)
    x = w[p + "embeddings.word_embeddings.weight"][input_ids] + w[p + "embeddings.position_embeddings.weight"][positions]
    x = layer_norm(x, w, p + "embeddings.LayerNorm", eps)
    masked = (attention_mask == 0).view(batch, 1, 1, seq)

    def split(t):
        return t.view(batch, seq, heads, size).transpose(1, 2)

    for i in range(config["n_layers"]):
        q = f"{p}transformer.layer.{i}."
        query = split(linear(x, w, q + "attention.q_lin")) / math.sqrt(size)
        key = split(linear(x, w, q + "attention.k_lin"))
        value = split(linear(x, w, q + "attention.v_lin"))
        scores = (query @ key.transpose(2, 3)).masked_fill(masked, torch.finfo(torch.float32).min)
        context = (torch.softmax(scores, dim=-1) @ value).transpose(1, 2).reshape(batch, seq, dim)
        attended = layer_norm(linear(context, w, q + "attention.out_lin") + x, w, q + "sa_layer_norm", eps)
        inner = gelu(linear(attended, w, q + "ffn.lin1"), config.get("activation", "gelu"))
        x = layer_norm(linear(inner, w, q + "ffn.lin2") + attended, w, q + "output_layer_norm", eps)
    return x


FAMILY_HEADS = {
    ("roberta", "sequence-classification"): "RobertaForSequenceClassification",
    ("xlm-roberta", "sequence-classification"): "XLMRobertaForSequenceClassification",
    ("distilbert", "sequence-classification"): "DistilBertForSequenceClassification",
    ("roberta", "token-classification"): "RobertaForTokenClassification",
    ("xlm-roberta", "token-classification"): "XLMRobertaForTokenClassification",
    ("distilbert", "token-classification"): "DistilBertForTokenClassification",
}


def run_family(folder, config, w, task, ids, mask):
    """AutoModelFor{Sequence,Token}Classification for roberta, xlm-roberta and distilbert folders."""
    model_type = config.get("model_type")
    architecture = (config.get("architectures") or [""])[0]
    expected = FAMILY_HEADS.get((model_type, task))
    if expected is None or architecture != expected:
        raise SystemExit(f"{folder}: {model_type} folder with architectures {architecture} for {task} (expected {expected})")
    hidden = distilbert_model(w, config, ids, mask) if model_type == "distilbert" else roberta_model(w, config, ids, mask)
    if task == "token-classification":
        return linear(hidden, w, "classifier")
    first = hidden[:, 0]
    if model_type == "distilbert":
        # DistilBertForSequenceClassification: pre_classifier, ReLU, dropout, classifier.
        return linear(torch.relu(linear(first, w, "pre_classifier")), w, "classifier")
    # RobertaClassificationHead: dropout, dense, tanh, dropout, out_proj.
    return linear(torch.tanh(linear(first, w, "classifier.dense")), w, "classifier.out_proj")


def modernbert_settings(config):
    """ModernBertConfig's reading of config.json: defaults, layer_types, rope bases (older and newer key formats)."""
    layers = config["num_hidden_layers"]
    every = config.get("global_attn_every_n_layers", 3)
    types = config.get("layer_types") or ["sliding_attention" if i % every else "full_attention" for i in range(layers)]
    rope = config.get("rope_parameters") or {}
    global_theta = (rope.get("full_attention") or {}).get("rope_theta", config.get("global_rope_theta", 160000.0))
    local_theta = (rope.get("sliding_attention") or {}).get("rope_theta", config.get("local_rope_theta", 10000.0))
    return every, types, {"full_attention": global_theta, "sliding_attention": local_theta}


def modernbert_norm(x, w, prefix, config):
    bias = w.get(prefix + ".bias") if config.get("norm_bias", False) else None
    return torch.nn.functional.layer_norm(x, (x.shape[-1],), w[prefix + ".weight"], bias, config.get("norm_eps", 1e-5))


def modernbert_linear(x, w, prefix, has_bias):
    y = x @ w[prefix + ".weight"].t()
    return y + w[prefix + ".bias"] if has_bias else y


def modernbert_model(w, p, config, input_ids, attention_mask):
    """transformers' ModernBertModel.forward, eager attention on the padded batch, eval mode: last_hidden_state."""
    heads = config["num_attention_heads"]
    hidden = config["hidden_size"]
    size = hidden // heads
    batch, seq = input_ids.shape
    every, types, thetas = modernbert_settings(config)
    act = config.get("hidden_activation", "gelu")
    attention_bias = config.get("attention_bias", False)
    mlp_bias = config.get("mlp_bias", False)
    x = modernbert_norm(w[p + "embeddings.tok_embeddings.weight"][input_ids], w, p + "embeddings.norm", config)
    # _update_attention_mask: the 4D padding mask, and the same with every key farther than local_attention // 2 set to the lowest float.
    lowest = torch.finfo(torch.float32).min
    global_mask = (1.0 - attention_mask[:, None, None, :].float()).expand(batch, 1, seq, seq) * lowest
    rows = torch.arange(seq).unsqueeze(0)
    window = (torch.abs(rows - rows.T) <= config.get("local_attention", 128) // 2)[None, None]
    sliding_mask = global_mask.masked_fill(window.logical_not(), lowest)
    positions = torch.arange(seq).unsqueeze(0).float()
    rotary = {}
    for kind, theta in thetas.items():
        inv_freq = 1.0 / (theta ** (torch.arange(0, size, 2, dtype=torch.int64).float() / size))
        freqs = (inv_freq[None, :, None] @ positions[:, None, :]).transpose(1, 2)
        emb = torch.cat((freqs, freqs), dim=-1)
        rotary[kind] = (emb.cos(), emb.sin())

    def rotate_half(t):
        return torch.cat((-t[..., size // 2:], t[..., : size // 2]), dim=-1)

    for i in range(config["num_hidden_layers"]):
        q = f"{p}layers.{i}."
        normed = x if i == 0 else modernbert_norm(x, w, q + "attn_norm", config)
        qkv = modernbert_linear(normed, w, q + "attn.Wqkv", attention_bias).view(batch, seq, 3, heads, size)
        query, key, value = qkv.transpose(3, 1).unbind(dim=2)
        cos, sin = rotary[types[i]]
        cos, sin = cos.unsqueeze(1), sin.unsqueeze(1)
        query = query * cos + rotate_half(query) * sin
        key = key * cos + rotate_half(key) * sin
        scores = query @ key.transpose(2, 3) * size ** -0.5
        scores = scores + (sliding_mask if i % every != 0 else global_mask)
        probs = torch.softmax(scores, dim=-1, dtype=torch.float32)
        attended = (probs @ value).transpose(1, 2).contiguous().view(batch, seq, hidden)
        x = x + modernbert_linear(attended, w, q + "attn.Wo", attention_bias)
        gate_input, gate = modernbert_linear(modernbert_norm(x, w, q + "mlp_norm", config), w, q + "mlp.Wi", mlp_bias).chunk(2, dim=-1)
        x = x + modernbert_linear(gelu(gate_input, act) * gate, w, q + "mlp.Wo", mlp_bias)
    return modernbert_norm(x, w, p + "final_norm", config)


def run_modernbert(folder, config, w, task, ids, mask):
    """AutoModel / AutoModelForSequenceClassification / AutoModelForTokenClassification for a modernbert folder."""
    architecture = (config.get("architectures") or [""])[0]
    expected = {"last-hidden-state": "ModernBertModel", "sequence-classification": "ModernBertForSequenceClassification",
                "token-classification": "ModernBertForTokenClassification"}.get(task)
    if architecture != expected:
        raise SystemExit(f"{folder}: modernbert folder with architectures {architecture} for {task} (expected {expected})")
    if task == "last-hidden-state":
        return modernbert_model(w, "", config, ids, mask)
    hidden = modernbert_model(w, "model.", config, ids, mask)
    if task == "sequence-classification":
        pooling = config.get("classifier_pooling", "cls")
        if pooling == "cls":
            hidden = hidden[:, 0]
        elif pooling == "mean":
            hidden = (hidden * mask.unsqueeze(-1)).sum(dim=1) / mask.sum(dim=1, keepdim=True)
        else:
            raise SystemExit(f"{folder}: classifier_pooling {pooling}")
    # ModernBertPredictionHead: norm(act(dense(x))), then dropout and the classifier (always with a bias).
    dense = modernbert_linear(hidden, w, "head.dense", config.get("classifier_bias", False))
    head = modernbert_norm(gelu(dense, config.get("classifier_activation", "gelu")), w, "head.norm", config)
    return linear(head, w, "classifier")


def load_remote_code(folder):
    """What trust_remote_code=True imports: the folder's modeling_bert_sharp.py (its pooling needs only torch)."""
    spec = importlib.util.spec_from_file_location("modeling_bert_sharp", os.path.join(folder, "modeling_bert_sharp.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def peft_targets(target_modules, name):
    """PEFT's check_target_module_exists: a string is a regular expression matching the whole name; a list matches a name
    equal to an entry or ending in "." + entry."""
    if isinstance(target_modules, str):
        return re.fullmatch(target_modules, name) is not None
    return any(name == t or name.endswith("." + t) for t in target_modules)


def load_peft_folder(folder):
    """PeftModel.from_pretrained(AutoModelFor...(base), folder), eval mode, as one merged state dict: every linear layer
    target_modules picks gets W + scaling * B @ A (scaling lora_alpha / r, or / sqrt(r) with use_rslora), every module of
    modules_to_save (plus classifier and score, which PEFT adds for SEQ_CLS / TOKEN_CLS) takes the adapter's tensors.
    Anything PEFT would apply differently (DoRA, biases, per-layer ranks) or would warn about (a targeted layer without
    LoRA weights, a key nothing uses) stops the mirror."""
    with open(os.path.join(folder, "adapter_config.json")) as f:
        peft = json.load(f)
    if peft.get("peft_type") != "LORA" or peft.get("use_dora") or peft.get("bias", "none") != "none" \
            or peft.get("rank_pattern") or peft.get("alpha_pattern") or peft.get("fan_in_fan_out"):
        raise SystemExit(f"{folder}: adapter_config.json asks for what this mirror does not apply: {peft}")
    base = peft["base_model_name_or_path"]
    with open(os.path.join(base, "config.json")) as f:
        config = json.load(f)
    w = load_safetensors(os.path.join(base, "model.safetensors"))
    adapter = load_safetensors(os.path.join(folder, "adapter_model.safetensors"))
    r, alpha = peft["r"], peft["lora_alpha"]
    scaling = alpha / (math.sqrt(r) if peft.get("use_rslora") else r)
    prefix = "base_model.model."
    used = set()
    # The linear layers of the base model (2-D weights outside the embeddings) that target_modules picks.
    linear = [k[:-len(".weight")] for k, v in w.items() if k.endswith(".weight") and v.dim() == 2 and "embeddings" not in k]
    saved = set(peft.get("modules_to_save") or [])
    if peft.get("task_type") in ("SEQ_CLS", "TOKEN_CLS"):
        saved |= {"classifier", "score"}
    targeted = [m for m in linear if peft_targets(peft["target_modules"], m) and m.split(".")[0] not in saved]
    if not targeted:
        raise SystemExit(f"{folder}: target_modules {peft['target_modules']} picks no linear layer of {base}")
    for module in targeted:
        a_key, b_key = f"{prefix}{module}.lora_A.weight", f"{prefix}{module}.lora_B.weight"
        if a_key not in adapter or b_key not in adapter:
            raise SystemExit(f"{folder}: target_modules picks {module} but the adapter has no {a_key} / {b_key}")
        a, b = adapter[a_key], adapter[b_key]
        if a.shape[0] != r or b.shape[1] != r:
            raise SystemExit(f"{folder}: {module} has rank {a.shape[0]} / {b.shape[1]}, config r {r}")
        w[module + ".weight"] = w[module + ".weight"] + scaling * (b @ a)
        used |= {a_key, b_key}
    for key, value in adapter.items():
        name = key[len(prefix):] if key.startswith(prefix) else None
        if name is not None and key not in used and any(name.startswith(m + ".") for m in saved):
            w[name] = value
            used.add(key)
    unused = sorted(set(adapter) - used)
    if unused:
        raise SystemExit(f"{folder}: keys PEFT would not load: {unused}")
    return base, config, w


def load_folder(folder):
    """The folder whose code runs (for bert_sharp's remote code), its config and its weights; a PEFT adapter folder reads its base."""
    if os.path.exists(os.path.join(folder, "adapter_config.json")):
        return load_peft_folder(folder)
    with open(os.path.join(folder, "config.json")) as f:
        config = json.load(f)
    return folder, config, load_safetensors(os.path.join(folder, "model.safetensors"))


def run(request):
    folder, config, w = load_folder(request["folder"])
    ids = torch.tensor(request["input_ids"])
    mask = torch.tensor(request["attention_mask"])
    types = torch.tensor(request["token_type_ids"])
    task = request["task"]
    model_type = config.get("model_type")
    architecture = (config.get("architectures") or [""])[0]
    has_pooler = any(k.endswith("pooler.dense.weight") for k in w)
    if model_type == "modernbert":
        output = run_modernbert(folder, config, w, task, ids, mask)
    elif model_type in ("roberta", "xlm-roberta", "distilbert") and task in ("sequence-classification", "token-classification"):
        output = run_family(folder, config, w, task, ids, mask)
    elif task == "sequence-classification":
        if model_type == "bert":
            # AutoModelForSequenceClassification -> BertForSequenceClassification: the head reads the pooler, always.
            if architecture != "BertForSequenceClassification":
                raise SystemExit(f"{folder}: architectures {architecture} is not BertForSequenceClassification")
            hidden, pooled = bert_model(w, "bert.", config, ids, mask, types, pooler=True)
        elif model_type == "bert_sharp":
            # Not a transformers model type: AutoModel refuses it unless trust_remote_code=True, then runs the folder's code.
            auto_map = config["auto_map"]["AutoModelForSequenceClassification"]
            if auto_map != "modeling_bert_sharp.BertSharpForSequenceClassification":
                raise SystemExit(f"{folder}: unexpected auto_map {auto_map}")
            hidden, pooler_output = bert_model(w, "bert.", config, ids, mask, types, pooler=has_pooler)
            pooled = load_remote_code(folder).pool(hidden, mask, pooler_output, config["classifier_pooling"])
        else:
            raise SystemExit(f"{folder}: model_type {model_type} is not a BERT transformers can load")
        output = linear(pooled, w, "classifier")
    elif task == "token-classification":
        if model_type != "bert" or architecture != "BertForTokenClassification":
            raise SystemExit(f"{folder}: not a BertForTokenClassification ({model_type}, {architecture})")
        hidden, _ = bert_model(w, "bert.", config, ids, mask, types, pooler=False)
        output = linear(hidden, w, "classifier")
    elif task == "sentence-embedding":
        # SentenceTransformer(folder): Transformer -> Pooling (1_Pooling/config.json) -> Normalize (if in modules.json).
        with open(os.path.join(folder, "modules.json")) as f:
            modules = json.load(f)
        with open(os.path.join(folder, "1_Pooling", "config.json")) as f:
            pooling = json.load(f)
        prefix = "bert." if any(k.startswith("bert.") for k in w) else ""
        hidden, _ = bert_model(w, prefix, config, ids, mask, types, pooler=False)
        m = mask.unsqueeze(-1).float()
        if pooling.get("pooling_mode_mean_tokens"):
            output = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
        elif pooling.get("pooling_mode_cls_token"):
            output = hidden[:, 0]
        elif pooling.get("pooling_mode_max_tokens"):
            output = hidden.masked_fill(m == 0, -1e9).max(dim=1).values
        else:
            raise SystemExit(f"{folder}: unsupported pooling {pooling}")
        if any(mod["type"].endswith(".Normalize") for mod in modules):
            output = torch.nn.functional.normalize(output, p=2, dim=1)
    else:
        raise SystemExit(f"unknown task {task}")
    return {"folder": request["folder"], "output": output.tolist()}


def main():
    with open(sys.argv[1]) as f:
        requests = json.load(f)
    with torch.no_grad():
        print(json.dumps([run(r) for r in requests]))


if __name__ == "__main__":
    main()
