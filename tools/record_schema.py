#!/usr/bin/env python3
"""Writes the JSON Schema (2020-12) of capability record v1:

    python3 tools/record_schema.py Sources/AccelBenchRecords/Schema/capability-record-1.schema.json

The schema is committed; edit this file and regenerate rather than editing the JSON by hand, and keep
Sources/AccelBenchRecords/CapabilityRecord.swift (the Swift model) in step. Helpers: obj(properties,
required=...) is an object schema whose required list defaults to every property; S/N/I are string,
number and integer schemas; ref(name) points into $defs.
"""
import json
def obj(props, required=None, extra=True, desc=None):
    o={"type":"object","properties":props}
    o["required"]=sorted(required if required is not None else props.keys())
    if not extra: o["additionalProperties"]=False
    if desc: o["description"]=desc
    return o
S=lambda **k: dict(type="string",**k)
N=lambda **k: dict(type="number",**k)
I=lambda **k: dict(type="integer",**k)
B={"type":"boolean"}
def opt(t): # nullable not used; optional handled via required lists
    return t
def arr(items, **k): return dict(type="array", items=items, **k)
ref=lambda n: {"$ref":"#/$defs/"+n}
digest=S(pattern="^sha256:[0-9a-f]{64}$")
time=S(pattern="^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?Z$", description="RFC 3339, UTC")
nonneg=N(minimum=0)
pos=N(exclusiveMinimum=0)
defs={}
defs["digest"]=digest
defs["time"]=time
defs["stats"]=obj({k:N() for k in ["median","mean","min","max","p5","p25","p75","p95"]} | {"n":I(minimum=1),"stddev":nonneg,"cv":nonneg,"robust_cv":nonneg},
   desc="Order statistics of the samples, in the result's unit")
defs["peak"]=obj({"value":pos,"kind":S(enum=["measured_ceiling","nominal_profile"]),"label":S(minLength=1),"profile":S()},required=["value","kind","label"])
defs["correctness"]=obj({"reference":S(enum=["fp64"]),"metric":S(minLength=1),"value":nonneg,"tolerance_name":S(minLength=1),"tolerance":pos,
   "nmse":nonneg,"nmse_tolerance":pos,"elements_checked":I(minimum=1),"non_finite":I(minimum=0),"passed":B},
   required=["reference","metric","value","tolerance_name","tolerance","elements_checked","non_finite","passed"])
unit=S(enum=["gflops","gb_per_s","tokens_per_s"])
workkind=S(enum=["flops","bytes","tokens"])
defs["result"]=obj({
  "id":S(pattern="^r[0-9]+$"),
  "metric":S(pattern="^[a-z0-9_]+\\.[a-z0-9_]+\\.[a-z_]+$", description="WORKLOAD.DTYPE.UNIT"),
  "workload":S(enum=["matmul","stream","attention","qgemv","qgemm","llm"]),
  "shape":S(minLength=1),"dtype":S(enum=["fp64","fp32","bf16","fp16","q8_0","q4_0","w8a8"]),
  "backend":S(minLength=1),"threads":I(minimum=1),"kernel_path":S(),"device_refs":arr(S(pattern="^acc[0-9]+$")),
  "status":S(enum=["passed","failed","skipped"], description="projected (unmeasured) results never enter a record"),
  "reason":S(),"work_per_call":pos,"work_kind":workkind,"work_rule":S(minLength=1),"unit":unit,
  "throughput":ref("stats"),"samples":arr(pos, maxItems=100000),"samples_digest":ref("digest"),
  "calls_per_sample":I(minimum=1),"warmup_calls":I(minimum=0),"timed_seconds":nonneg,"sampling_seconds":nonneg,
  "stop_reason":S(enum=["converged","timeout","max_samples"]),"correctness":ref("correctness"),"peak":ref("peak"),
  "peak_fraction":nonneg,
  "secondary":obj({"unit":unit,"work_per_call":pos,"work_kind":workkind,"work_rule":S(minLength=1),"throughput":ref("stats"),"peak":ref("peak"),"peak_fraction":nonneg},
      required=["unit","work_per_call","work_kind","work_rule","throughput"]),
  "peak_resident_bytes":I(minimum=0),"power_window":S(pattern="^w[0-9]+$")},
  required=["id","metric","workload","shape","dtype","backend","threads","device_refs","status","work_per_call","work_kind","work_rule","unit","samples"])
method=S(enum=["rapl","hwmon","nvml","ipmi","redfish","meter","plugin","estimate"])
scope=S(enum=["cpu_package","cpu_cores","cpu_uncore","dram","platform","accelerator_board","node","chassis","node_wall","other"])
defs["channel"]=obj({"id":S(minLength=1),"method":method,"scope":scope,"level":I(minimum=0,maximum=3),"quality":S(),
  "quantity":S(enum=["energy_counter","sampled_watts"]),"energy_j":nonneg,"avg_w":nonneg,"duration_s":nonneg,"readings":I(minimum=0),
  "sample_interval_s":nonneg,"wraps":I(minimum=0),"gaps":arr(S()),"comparable":B,"detail":S()},
  required=["id","method","scope","level","quality","quantity","duration_s","readings","sample_interval_s","wraps","gaps","comparable","detail"])
defs["window"]=obj({"id":S(pattern="^w[0-9]+$"),"result":S(pattern="^r[0-9]+$"),"duration_s":nonneg,"channels":arr(ref("channel")),
  "errors":arr(S()),"telemetry":arr(obj({"channel":S(),"at_s":nonneg,"values":arr(obj({"name":S(minLength=1),"value":S()}))}))})
defs["efficiency"]=obj({"result":S(pattern="^r[0-9]+$"),"window":S(pattern="^w[0-9]+$"),"channel":S(minLength=1),"method":method,"scope":scope,
  "level":I(minimum=0,maximum=3),"unit":S(enum=["gflops_per_w","gb_per_s_per_w","tokens_per_j"]),"value":pos,"window_work":pos,"energy_j":pos,"comparable":B})
defs["check"]=obj({"id":S(pattern="^[a-z0-9_.]+(:[A-Za-z0-9_.-]+)?$"),"passed":B,"value":N(),"threshold":N(),"note":S()},required=["id","passed"])
defs["figure"]=obj({"value":pos,"derived_from":S(pattern="^r[0-9]+$"),"rule":S(minLength=1),"absent_reason":S()},required=["rule"])
rec=obj({
 "schema":{"const":"urn:accelbench:schema:capability-record:1"},
 "schema_version":S(pattern="^1\\.[0-9]+\\.[0-9]+$"),
 "run_id":S(pattern="^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", description="UUID version 7"),
 "supersedes":ref("digest"),
 "subject":obj({"node_id":ref("digest"),"node_id_method":S(minLength=1),"node_id_salted":B,"operator_name":S(),"region_code":S(pattern="^[0-9A-Za-z-]{1,32}$"),
    "site_id":S(maxLength=200),"national_compute_id":S(minLength=1,maxLength=512,description="Opaque: assigned by a national or regional registry, never parsed")},
    required=["node_id","node_id_method","node_id_salted"]),
 "system":obj({
    "cpus":arr(obj({"vendor":S(),"model":S(),"arch":S(),"isa_extensions":arr(S(pattern="^[a-z0-9_.]+$")),"sockets":I(minimum=0),"cores":I(minimum=1),
        "threads":I(minimum=1),"l1d_bytes":I(minimum=0),"l2_bytes":I(minimum=0),"l3_bytes":I(minimum=0)},required=["isa_extensions","sockets","cores","threads"]),minItems=1),
    "memory":obj({"capacity_bytes":I(minimum=1),"numa_nodes":I(minimum=1)}),
    "accelerators":arr(obj({"ref":S(pattern="^acc[0-9]+$"),"type":S(enum=["gpu","npu","fpga","asic","dsp","other"]),"vendor":S(),"model":S(),
        "pci_bus_id":S(),"pci_id":S(),"memory_bytes":I(minimum=0),"driver_version":S(),"detected_by":S(minLength=1)},required=["ref","type","detected_by"])),
    "links":arr(obj({"type":S(enum=["pcie","nvlink","xgmi","hccs","cxl","other"]),"endpoints":arr(S(),minItems=2,maxItems=2),"nominal_gb_per_s":nonneg},required=["type","endpoints"])),
    "topology_summary":S(),"detected_by":S(minLength=1)}),
 "provenance":obj({
    "harness":obj({"name":{"const":"accelbench"},"version":S(minLength=1),"commit":S(minLength=1),"dirty":B,"compiler":S(),"build_configuration":S(enum=["release","debug"])}),
    "os":S(),"distribution":S(),"kernel":S(),
    "software":arr(obj({"name":S(minLength=1),"version":S(),"kind":S(enum=["library","driver","plugin","runtime"])})),
    "command_line":arr(S(),minItems=1),"started_at":ref("time"),"finished_at":ref("time"),"suite":S(minLength=1),"seed":S(pattern="^[0-9]{1,20}$"),
    "suite_digest":ref("digest"),"config_digest":ref("digest"),"load_average_start":arr(nonneg,maxItems=3),"load_average_end":arr(nonneg,maxItems=3)},
    required=["harness","software","command_line","started_at","finished_at","suite","seed","suite_digest","config_digest","load_average_start","load_average_end"]),
 "results":arr(ref("result"),minItems=1,maxItems=10000),
 "ceilings":arr(obj({"id":S(pattern="^[a-z0-9_.]+$"),"label":S(),"value":pos,"unit":S(enum=["ghz","gflops","gops","gb_per_s"]),"method":S(),
    "p5":N(),"p95":N(),"n":I(minimum=1),"threads":I(minimum=1)},required=["id","label","value","unit","method","threads"]),maxItems=1000,
    description="The host's ceilings measured in the same run: the measured_ceiling peaks come from these"),
 "power":obj({"channels_available":arr(S()),"notes":arr(S()),"sample_interval_s":nonneg,"idle_seconds":nonneg,
    "idle":arr(obj({"channel":S(minLength=1),"avg_w":nonneg})),"windows":arr(ref("window"))}),
 "efficiency":arr(ref("efficiency")),
 "validity":obj({"status":S(enum=["valid","partial","invalid"], description="valid: every check passed; partial: only result-quality checks (noise.threshold, duration.minimum) failed, those results are flagged and count in no normalized figure; invalid: anything else"),"checks":arr(ref("check")),
    "protocol":obj({"warmup_s":nonneg,"min_samples":I(minimum=1),"min_seconds":nonneg,"max_noise":nonneg,"timeout_s":nonneg,"min_sample_s":nonneg,"threads_pinned":B,"inputs":S()}),
    "certification":obj({"profile":S(minLength=1),"sku":S(minLength=1),"thresholds_digest":S(minLength=1),"thresholds_source":S(),"passed":B,"check_ids":arr(S())})},
    required=["status","checks","protocol"]),
 "normalized":obj({"rules_version":S(pattern="^accelbench-normalized-[0-9]{4}\\.[0-9]+$"),"basis":{"const":"measured"},
    "intelligent_compute_fp16_dense_tflops":ref("figure"),"intelligent_compute_bf16_dense_tflops":ref("figure"),
    "general_compute_fp32_tflops":ref("figure"),"int8_dense_tops":ref("figure"),"memory_bandwidth_gb_per_s":ref("figure"),
    "llm_tokens_per_s":arr(obj({"model":S(minLength=1),"test":S(minLength=1),"dtype":S(enum=["q8_0","q4_0"]),"threads":I(minimum=1),"value":pos,"derived_from":S(pattern="^r[0-9]+$")})),
    "efficiency":arr(obj({"figure":S(minLength=1),"value":pos,"unit":S(enum=["gflops_per_w","gb_per_s_per_w","tokens_per_j"]),"method":method,"scope":scope,"comparable":B,"derived_from":S(pattern="^r[0-9]+$")}))}),
}, required=["schema","schema_version","run_id","subject","system","provenance","results","ceilings","power","efficiency","validity","normalized"])
schema={"$schema":"https://json-schema.org/draft/2020-12/schema","$id":"urn:accelbench:schema:capability-record:1",
 "title":"accelbench capability record, version 1",
 "description":"What one node measurably delivers per precision and per watt, with its evidence. Units are fixed by field names (_bytes, _s, _w, _j, gflops, gb_per_s, tokens_per_s, tops, tflops). Signed as a DSSE envelope with payloadType application/vnd.accelbench.capability-record.v1+json over the RFC 8785 canonical form. Unknown fields are ignored by v1 readers (minor versions only add fields); unknown enum values are errors."}
schema.update(rec)
schema["$defs"]=defs
import sys
json.dump(schema, open(sys.argv[1],"w"), indent=2, sort_keys=False)
open(sys.argv[1],"a").write("\n")
