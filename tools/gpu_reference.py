#!/usr/bin/env python3
"""PyTorch + transformers reference timings for the gpu-check (docs/gpu.md).

Loads the bert-shaped folder the gpu-check saved (--model) with transformers, or builds a random bert-base-shaped model
with BertConfig() when the folder is absent, and times on CUDA (else the CPU) at batch 32 x 128: the forward pass in fp32
(TF32 off) and bf16 autocast, and one training step (forward, cross-entropy, backward, AdamW fused=True on CUDA) in fp32
and bf16 autocast. Prints markdown table rows that start with "| pytorch" (the gpu-check copies them into its report) and
writes them to --out. Needs torch and transformers; nothing is downloaded.
"""
import argparse
import os
import statistics
import time

import torch
from transformers import BertConfig, BertForSequenceClassification


def median_ms(step, rounds, device):
    for _ in range(3):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", help="a Hugging Face bert folder (built with BertConfig() when absent)")
    parser.add_argument("--out", default="pytorch-reference.md")
    parser.add_argument("--tiny", action="store_true", help="a 2-layer model and 3 rounds (a smoke run)")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--seq", type=int, default=128)
    args = parser.parse_args()

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.manual_seed(0)
    if args.model and os.path.isfile(os.path.join(args.model, "config.json")):
        model = BertForSequenceClassification.from_pretrained(args.model, num_labels=2, attn_implementation="sdpa")
    else:
        config = BertConfig(num_hidden_layers=2, hidden_size=32, num_attention_heads=4, intermediate_size=64) if args.tiny else BertConfig()
        config.num_labels = 2
        model = BertForSequenceClassification(config)
        if args.model:
            model.save_pretrained(args.model)
    model.to(device)
    rounds = 3 if args.tiny else 20
    vocab = model.config.vocab_size
    ids = torch.randint(5, vocab, (args.batch, args.seq), device=device)
    labels = torch.randint(0, 2, (args.batch,), device=device)
    rows = []
    shape = f"{args.batch}×{args.seq}"

    model.eval()
    for name, dtype in (("Float32", None), ("BFloat16", torch.bfloat16)):
        def forward():
            with torch.no_grad(), torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
                model(input_ids=ids)
        rows.append(f"| pytorch forward {name}, {shape} | {median_ms(forward, rounds, device):.2f} ms |")

    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5, fused=device.type == "cuda")
    for name, dtype in (("Float32", None), ("BFloat16", torch.bfloat16)):
        def train_step():
            optimizer.zero_grad(set_to_none=True)
            with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
                loss = model(input_ids=ids, labels=labels).loss
            loss.backward()
            optimizer.step()
        rows.append(f"| pytorch training step {name} (fused AdamW), {shape} | {median_ms(train_step, rounds, device):.2f} ms |")

    header = f"PyTorch {torch.__version__} on {torch.cuda.get_device_name(0) if device.type == 'cuda' else 'CPU'}"
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(header + "\n\n" + "\n".join(rows) + "\n")
    print(header)
    for row in rows:
        print(row)


if __name__ == "__main__":
    main()
