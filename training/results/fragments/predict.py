"""Predict the five gold reports + the 17 w5 docs with the shipped model; decoding overrides as JSON argv[2]."""
import json, sys, time
import torch
torch.set_num_threads(1)
from fazhi_ie.document import Document
from fazhi_ie.io.jsonl import read_jsonl, write_jsonl
from fazhi_ie.neural import ModelEngine
from fazhi_ie.pipeline import Pipeline

out = sys.argv[1]
decoding = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
splits = json.load(open("data/annotations/splits.json"))
w5 = set(splits["local_held_out_writer"])
docs = read_jsonl("data/annotations/reports.jsonl", require_value_heads=False)
docs += [d for d in read_jsonl("data/annotations/local.jsonl", require_value_heads=False) if d.id in w5]
engine = ModelEngine.from_pretrained("fazhi_ie/models/default", **decoding)
nlp = Pipeline(engine)
preds = []
t = time.time()
for d in docs:
    preds.append(nlp.annotate(Document(d.id, d.text, d.meta)))
    print(d.id, round(time.time() - t, 1), flush=True)
write_jsonl(preds, out)
