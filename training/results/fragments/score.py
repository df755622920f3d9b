"""Entity / HAS_VALUE / METRIC F1 on jinpu, on w5, and pooled; per prediction file."""
import json, sys
from fazhi_ie.io.jsonl import read_jsonl
from fazhi_ie.analysis.evaluation import evaluate
W5 = set(json.load(open('data/annotations/splits.json'))['local_held_out_writer'])
gold = {d.id: d for d in read_jsonl('data/annotations/reports.jsonl', require_value_heads=False)}
gold.update({d.id: d for d in read_jsonl('data/annotations/local.jsonl', require_value_heads=False) if d.id in W5})
sets = {'jinpu': ['jinpu-2023'], 'w5': sorted(W5), 'jinpu+w5': ['jinpu-2023'] + sorted(W5)}
for path in sys.argv[1:]:
    pred = {d.id: d for d in read_jsonl(path, require_value_heads=False, validate=False)}
    row = []
    for name, ids in sets.items():
        r = evaluate([gold[i] for i in ids], [pred[i] for i in ids], bootstrap=0)
        row.append(f"{name}: ent {r.entity_micro.f1:.4f} HV {r.relations['HAS_VALUE'].f1:.4f} "
                   f"MET {r.entities['METRIC'].f1:.4f} rel {r.relation_micro.f1:.4f}")
    print(path.split('/')[-1], ' | '.join(row))
