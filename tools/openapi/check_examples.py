import json, sys
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
doc = json.load(open(sys.argv[1]))
reg = Registry().with_resource("urn:doc", Resource.from_contents(doc, default_specification=__import__("referencing.jsonschema").jsonschema.DRAFT202012))
n = 0
def walk(node, path):
    global n
    if isinstance(node, dict):
        if "schema" in node and "example" in node:
            v = Draft202012Validator({"$ref": "urn:doc#"+ "", **{}} if False else {"$schema":"https://json-schema.org/draft/2020-12/schema", "allOf":[node["schema"]]}, registry=reg, format_checker=Draft202012Validator.FORMAT_CHECKER)
            # rewrite local refs
            sch = json.loads(json.dumps(node["schema"]).replace('"#/components', '"urn:doc#/components'))
            v = Draft202012Validator(sch, registry=reg, format_checker=Draft202012Validator.FORMAT_CHECKER)
            errs = list(v.iter_errors(node["example"])); n += 1
            for e in errs: print(path, e.message)
        if "examples" in node and isinstance(node["examples"], list) and "type" in node:
            sch = json.loads(json.dumps({k:v for k,v in node.items() if k!="examples"}).replace('"#/components', '"urn:doc#/components'))
            for ex in node["examples"]:
                n += 1
                for e in Draft202012Validator(sch, registry=reg, format_checker=Draft202012Validator.FORMAT_CHECKER).iter_errors(ex): print(path, e.message)
        for k, v in node.items(): walk(v, path+"/"+k)
    elif isinstance(node, list):
        for i, v in enumerate(node): walk(v, path+f"/{i}")
walk(doc, "")
print("checked", n)
