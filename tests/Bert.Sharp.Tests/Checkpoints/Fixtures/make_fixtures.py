#!/usr/bin/env python3
"""Regenerates the torch.save fixtures of TorchSaveFixtureTests with a real PyTorch (tested with 1.13 from Debian's
python3-torch): `/usr/bin/python3 make_fixtures.py` in this folder. The files are committed; tests never run Python.

- state_dict.pt.fixture + state_dict.expected.json: a small state dict as a model would save it (fp32, fp16, bf16,
  float64, int64, bool; tied weights sharing one storage; a transposed and an offset slice view; position_ids as the
  stride-0 `expand` Hugging Face uses) and the float32 / int64 bit patterns every tensor must load as.
- hostile_stride0.pt.fixture: one element expanded to 10^9 elements with stride 0 (the 541-byte file that once took
  8 GB and 26 s).
- hostile_three_stride0.pt.fixture: three such views (once OOM-killed).
- hostile_beyond_storage.pt.fixture: a view made with set_ that reaches past its storage (storage of 4, size 10 at
  offset 2).
"""
import collections
import json
import struct

import torch


def bits(t):
    """Bit patterns of the values as Bert.Sharp loads them: floats as float32, integers as int64, bools as 0/1."""
    flat = t.contiguous().reshape(-1)
    if t.dtype.is_floating_point:
        return [struct.unpack("<I", struct.pack("<f", v))[0] for v in flat.float().tolist()]
    return [int(v) for v in flat.tolist()]


def save(obj, name):
    torch.save(obj, name)


torch.manual_seed(1234)
base = torch.randn(4, 6)
state = collections.OrderedDict()
state["embeddings.word_embeddings.weight"] = base
state["cls.predictions.decoder.weight"] = base  # tied: same storage, same view
state["encoder.transposed"] = base.t()  # non-contiguous view of the same storage
state["encoder.slice"] = base[1:3, 2:5]  # offset 8, strides (6, 1)
state["encoder.half"] = torch.randn(3, 2).half()
state["encoder.bf16"] = torch.randn(5).bfloat16()
state["encoder.double"] = torch.randn(2, 2).double()
state["embeddings.position_ids"] = torch.arange(8).expand((1, -1))  # size [1, 8], stride [0, 1]
state["encoder.mask"] = torch.tensor([True, False, True])
state["encoder.empty"] = torch.zeros(0, 3)
save(state, "state_dict.pt.fixture")

expected = collections.OrderedDict()
for key, t in state.items():
    expected[key] = {
        "dtype": str(t.dtype).replace("torch.", ""),
        "shape": list(t.shape),
        "bits": bits(t),
    }
with open("state_dict.expected.json", "w") as f:
    json.dump(expected, f, indent=1)
    f.write("\n")

save({"w": torch.zeros(1).expand(10**9)}, "hostile_stride0.pt.fixture")
save(collections.OrderedDict((f"w{i}", torch.zeros(1).expand(10**9)) for i in range(3)), "hostile_three_stride0.pt.fixture")

beyond = torch.empty(0)
storage = torch.arange(4, dtype=torch.float32).storage()
beyond.set_(storage, 2, (10,), (1,))  # set_ grows the storage to 12 elements ...
storage.resize_(4)  # ... shrinking it back leaves the view reaching past it, and torch.save writes it as it is
assert beyond.storage().size() == 4 and beyond.size() == (10,)
save({"w": beyond}, "hostile_beyond_storage.pt.fixture")
print("ok")
