import json, sys, time, torch
torch.set_num_threads(1)
from pathlib import Path
from fazhi_ie.io.jsonl import read_jsonl
from fazhi_ie.neural import ModelEngine
from fazhi_ie.pipeline import annotate
from fazhi_ie.document import Document
from fazhi_ie.analysis.evaluation import evaluate
A=Path('data/annotations'); sp=json.loads((A/'splits.json').read_text())
jin=[d for d in read_jsonl(A/'reports.jsonl') if d.id=='jinpu-2023']
w5=[d for d in read_jsonl(A/'local.jsonl') if d.id in set(sp['local_held_out_writer'])]
model=sys.argv[1]
for stride in [int(x) for x in sys.argv[2:]]:
    eng=ModelEngine.from_pretrained(model, inference_stride=stride)
    out={}
    for name,docs in [('jinpu',jin),('w5',w5)]:
        t=time.perf_counter()
        preds=[annotate(Document(d.id,d.text,d.meta),engine=eng) for d in docs]
        r=evaluate(docs,preds,bootstrap=0)
        out[name]=dict(entity=round(r.entity_micro.f1,4), relation=round(r.relation_micro.f1,4), has_value=round(r.relations['HAS_VALUE'].f1,4), s=round(time.perf_counter()-t,1))
    print(stride, json.dumps(out), flush=True)
