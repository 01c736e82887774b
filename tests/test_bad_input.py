"""Bad input, case by case: each gets an error that names the problem, and nothing partial is written.

Every case builds its input under ``ctx.inputs`` and may only write under ``ctx.out``; after the
error ``ctx.out`` must hold no file.
"""

import bz2
import gzip
import json
import shutil
import sys
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from instructrec_peft import InteractionLog, ItemCatalog
from instructrec_peft.data.presets import load_preset
from instructrec_peft.errors import ArgumentError, ConfigError, DataError, MissingFileError, TemplateError

CASES = {}


def case(name, error, match):
    def register(fn):
        CASES[name] = (fn, error, match)
        return fn
    return register


def write(ctx, name, content):
    path = ctx.inputs / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    return path


INTER = "user_id,item_id,timestamp\nu1,1,10\nu1,2,20\nu1,3,30\n"


@case("empty interactions file", DataError, r"empty\.csv: the file is empty")
def _(ctx):
    InteractionLog.load(write(ctx, "empty.csv", ""), catalog=ctx.catalog)


@case("atomic header without types", DataError, r"toy\.inter, line 1, column 1: header cell 'user_id' has no type")
def _(ctx):
    write(ctx, "toy/toy.item", "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n"
                               "1\tAlien\t1979\tHorror\n")
    write(ctx, "toy/toy.inter", "user_id\titem_id\ttimestamp\nu1\t1\t10\n")
    InteractionLog.from_recbole(ctx.inputs / "toy")


@case("missing user column", DataError, r"no user column 'user_id'; the columns are \['item_id', 'timestamp'\]")
def _(ctx):
    InteractionLog.load(write(ctx, "i.csv", "item_id,timestamp\n1,10\n"), catalog=ctx.catalog)


@case("missing item column", DataError, r"no item column 'item_id'")
def _(ctx):
    InteractionLog.load(write(ctx, "i.csv", "user_id,timestamp\nu1,10\n"), catalog=ctx.catalog)


@case("missing time column", DataError, r"no time column 'timestamp'")
def _(ctx):
    InteractionLog.load(write(ctx, "i.csv", "user_id,item_id\nu1,1\n"), catalog=ctx.catalog)


@case("non-UTF-8 bytes", DataError, r"latin\.csv, line 2, column 4: not valid UTF-8 \(byte 0xe9\); re-encode the "
      r"file as UTF-8")
def _(ctx):
    InteractionLog.load(write(ctx, "latin.csv", "user_id,item_id,timestamp\nJos\xe9,1,10\n".encode("latin-1")),
                        catalog=ctx.catalog)


@case("non-numeric timestamp", DataError, r"i\.csv, line 3: timestamp 'yesterday' is neither a number nor an ISO 8601 "
      r"date; for another date layout set time_unit to its strptime format")
def _(ctx):
    InteractionLog.load(write(ctx, "i.csv", "user_id,item_id,timestamp\nu1,1,10\nu1,2,yesterday\n"),
                        catalog=ctx.catalog)


@case("malformed JSON lines", DataError, r"i\.jsonl: cannot be read as jsonl")
def _(ctx):
    InteractionLog.load(write(ctx, "i.jsonl", '{"user_id": "u1", "item_id": "1", "timestamp": 1}\n{oops\n'),
                        catalog=ctx.catalog)


@case("no interaction has item metadata", DataError, r"i\.csv: none of the item ids in column 'item_id' is in the "
      r"catalogue .*\(e\.g\. '91' in the log, '1' in the catalogue\); check item_column and item_id_column")
def _(ctx):
    InteractionLog.load(write(ctx, "i.csv", "user_id,item_id,timestamp\nu1,91,1\nu1,92,2\nu1,93,3\n"),
                        catalog=ctx.catalog)


@case("empty item text", DataError, r"item '2' has an empty 'title'")
def _(ctx):
    ItemCatalog(pd.DataFrame({"title": ["Alien", ""]}, index=pd.Index(["1", "2"], name="item_id")),
                text_fields=("title",))


@case("no room for an item name", DataError, r"items: max_text_chars=4 leaves no room for a name")
def _(ctx):
    ItemCatalog(pd.DataFrame({"title": ["x" * 5000]}, index=pd.Index(["1"], name="item_id")), text_fields=("title",),
                max_text_chars=4)


@case("unknown template name", TemplateError, r"unknown template 'p1-i0-matchin-1'; did you mean p1-i0-matching-1")
def _(ctx):
    from instructrec_peft.instructions.templates import get_template

    get_template("p1-i0-matchin-1")


@case("template with an unknown placeholder", TemplateError,
      r"template 'mine': unknown placeholder\(s\) \{histroy\} in the prompt")
def _(ctx):
    from instructrec_peft.instructions.templates import Template

    Template(name="mine", preference="P1", intention="I0", task="matching",
             prompt="The user {past}: {histroy}. Next?", response="{target}")


@case("placeholder with attribute access", TemplateError, r"'\{history.__class__\}'.*attribute or index access")
def _(ctx):
    from instructrec_peft.instructions.templates import Template

    Template(name="mine", preference="P1", intention="I0", task="matching",
             prompt="{history.__class__}", response="{target}")


@case("placeholder with index access", TemplateError, r"'\{history\[0\]\}'.*attribute or index access")
def _(ctx):
    from instructrec_peft.instructions.templates import Template

    Template(name="mine", preference="P1", intention="I0", task="matching", prompt="{history[0]}",
             response="{target}")


@case("unknown config field (typo)", ValueError, r"run\.yaml: unknown config field 'lerning_rate'; did you mean "
      r"'learning_rate'\?")
def _(ctx):
    from instructrec_peft.config import parse_config

    parse_config([str(write(ctx, "run.yaml", f"lerning_rate: 0.1\noutput_dir: {ctx.out}\n"))])


@case("model path missing", FileNotFoundError, r"model_name_or_path: .*/no-such-model does not exist")
def _(ctx):
    from instructrec_peft.config import ModelArguments
    from instructrec_peft.models.loading import load_base_model

    load_base_model(ModelArguments(model_name_or_path=str(ctx.inputs / "no-such-model")))


@case("corrupt safetensors", ValueError, r"gpt2: a weights file is corrupt or truncated")
def _(ctx):
    import shutil

    from instructrec_peft.config import ModelArguments
    from instructrec_peft.models.loading import load_base_model

    folder = ctx.inputs / "gpt2"
    shutil.copytree(ctx.assets["gpt2"], folder)
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    load_base_model(ModelArguments(model_name_or_path=str(folder)))


@case("asset with a wrong checksum", Exception, r"checksum mismatch for demo_pkg-1.0-py3-none-any\.whl")
def _(ctx):
    from instructrec_peft.data import assets

    spec = assets.WheelSpec("demo-pkg", "1.0", "0" * 64, "MIT")

    def download(spec, folder):
        (Path(folder) / "demo_pkg-1.0-py3-none-any.whl").write_bytes(b"tampered")

    assets.fetch_wheel(spec, ctx.out, download)


@case("adapter trained for another base model", ValueError, r"the adapter does not fit this base model; it was "
      r"trained on .*gpt2.*the base given is .*llama")
def _(ctx):
    from transformers import AutoModelForCausalLM

    from instructrec_peft.models.loading import load_adapter

    load_adapter(ctx.adapter, base=AutoModelForCausalLM.from_pretrained(ctx.assets["llama"]))


@case("adapter weights only as a pickle", FileNotFoundError, r"no adapter_model\.safetensors; adapters are loaded "
      "from safetensors only")
def _(ctx):
    import shutil

    from instructrec_peft.models.loading import load_adapter

    folder = ctx.inputs / "pickled"
    shutil.copytree(ctx.adapter, folder)
    (folder / "adapter_model.safetensors").rename(folder / "adapter_model.bin")
    load_adapter(str(folder))


@case("empty candidate list", ValueError, r"the candidate list is empty")
def _(ctx):
    ctx.recommender().score(["Film A0"], [])


@case("empty history", ValueError, r"the history is empty: give at least one item or an explicit preference")
def _(ctx):
    ctx.recommender().score([], ["Film A0", "Film B1"])


@case("one history item longer than the prompt budget", TemplateError, r"even with 1 history item\(s\) the prompt "
      r"needs \d+ tokens, over the budget of 32")
def _(ctx):
    from instructrec_peft.instructions.templates import get_template

    get_template("p1-i0-matching-1").render(vocabulary="movie", history=["word " * 200], target="x",
                                            count_tokens=lambda text: len(text.split()), max_prompt_tokens=32)


@case("4-bit without bitsandbytes", ImportError, r"quantization='4bit' needs bitsandbytes: pip install bitsandbytes")
def _(ctx):
    from instructrec_peft.config import ModelArguments
    from instructrec_peft.models.loading import quantization_config

    ctx.monkeypatch.setitem(sys.modules, "bitsandbytes", None)  # makes `import bitsandbytes` fail
    quantization_config(ModelArguments(model_name_or_path="x", quantization="4bit"))


@case("unknown task form in the mix", ValueError, r"DataArguments.task_mix: unknown task form 'matchng'")
def _(ctx):
    from instructrec_peft.config import DataArguments

    DataArguments(task_mix="matchng=1")


@case("manifest with an unknown field", ValueError, r"template manifest: unknown field\(s\) \['evil'\]")
def _(ctx):
    from instructrec_peft.instructions.manifest import Manifest

    Manifest.from_dict({"templates": [], "eval_template": "p1-i0-matching-1", "evil": "__import__('os')"})


@case("manifest template with attribute access", TemplateError,
      r"'\{history.__globals__\}'.*attribute or index access")
def _(ctx):
    from instructrec_peft.instructions.manifest import Manifest

    evil = {"name": "evil", "preference": "P1", "intention": "I0", "task": "matching",
            "prompt": "{history.__globals__}", "response": "{target}", "source": "downloaded"}
    Manifest(templates=[evil], eval_template="evil").register()


# ---- compressed and encoded files ------------------------------------------------------------------

INTER_BYTES = INTER.encode() * 50


@case("truncated .csv.gz", DataError, r"t\.csv\.gz: the compressed file ends early \(a truncated download\?\); "
      "download it again")
def _(ctx):
    InteractionLog.load(write(ctx, "t.csv.gz", gzip.compress(INTER_BYTES)[:60]), catalog=ctx.catalog)


@case("garbage .csv.gz", DataError, r"g\.csv\.gz: not a valid gzip file \(Not a gzipped file")
def _(ctx):
    InteractionLog.load(write(ctx, "g.csv.gz", b"not gzip at all"), catalog=ctx.catalog)


@case("garbage .csv.bz2", DataError, r"g\.csv\.bz2: not a valid bz2 file \(Invalid data stream\)")
def _(ctx):
    InteractionLog.load(write(ctx, "g.csv.bz2", b"not bz2 at all"), catalog=ctx.catalog)


@case("truncated .csv.bz2", DataError, r"t\.csv\.bz2: the compressed file ends early")
def _(ctx):
    InteractionLog.load(write(ctx, "t.csv.bz2", bz2.compress(INTER_BYTES)[:60]), catalog=ctx.catalog)


@case("truncated .jsonl.gz", DataError, r"t\.jsonl\.gz: the compressed file ends early")
def _(ctx):
    lines = b'{"user_id": "u1", "item_id": "1", "timestamp": 1}\n' * 50
    InteractionLog.load(write(ctx, "t.jsonl.gz", gzip.compress(lines)[:60]), catalog=ctx.catalog)


@case("amazon preset, truncated .gz", DataError, r"Books\.jsonl\.gz: not a valid gzip file \(Truncated compressed "
      r"stream\)")
def _(ctx):
    review = b'{"user_id": "u1", "parent_asin": "1", "rating": 5, "timestamp": 1}\n'
    write(ctx, "am/Books.jsonl.gz", gzip.compress(review * 100)[:70])
    write(ctx, "am/meta_Books.jsonl.gz", gzip.compress(b'{"parent_asin": "1", "title": "A"}\n'))
    load_preset("amazon-2023", ctx.inputs / "am")


@case("amazon preset, garbage .gz", DataError, r"Books\.jsonl\.gz: not a valid gzip file \(zlib inflate failed")
def _(ctx):
    write(ctx, "am/Books.jsonl.gz", b"garbage")
    write(ctx, "am/meta_Books.jsonl.gz", gzip.compress(b'{"parent_asin": "1", "title": "A"}\n'))
    load_preset("amazon-2023", ctx.inputs / "am")


@case("movielens preset, non-UTF-8 title", DataError, r"movies\.csv, line 2, column 6: not valid UTF-8 \(byte "
      r"0xe9\); re-encode the file as UTF-8")
def _(ctx):
    write(ctx, "ml/ratings.csv", b"userId,movieId,rating,timestamp\n1,1,5,1\n")
    write(ctx, "ml/movies.csv", b"movieId,title,genres\n1,Jos\xe9 (1999),Drama\n")
    load_preset("movielens", ctx.inputs / "ml")


GOODREADS_INTER = b'{"user_id": "u", "book_id": "1", "rating": 5, "date_added": "Mon Aug 01 13:41:57 -0700 2016"}\n'


@case("goodreads preset, non-UTF-8 in a .gz", DataError, r"goodreads_books_x\.json\.gz, line 1, column 31: not "
      r"valid UTF-8 \(byte 0xe9\)")
def _(ctx):
    write(ctx, "gr/goodreads_interactions_x.json.gz", gzip.compress(GOODREADS_INTER))
    write(ctx, "gr/goodreads_books_x.json.gz", gzip.compress(b'{"book_id": "1", "title": "Jos\xe9"}\n'))
    load_preset("goodreads", ctx.inputs / "gr")


STEAM_REVIEW = b"{'username': 'a', 'product_id': '1', 'date': '2017-01-01'}\n"


@case("steam preset, non-UTF-8 in a Python-literal line", DataError, r"steam_games\.json\.gz, line 1, column 25: "
      r"not valid UTF-8 \(byte 0xff\)")
def _(ctx):
    write(ctx, "st/steam_reviews.json.gz", gzip.compress(STEAM_REVIEW))
    write(ctx, "st/steam_games.json.gz", gzip.compress(b"{'id': '1', 'app_name': \xff}\n"))
    load_preset("steam", ctx.inputs / "st")


@case("steam preset, a number of 5000 digits", DataError, r"steam_games\.json\.gz, line 1: Exceeds the limit "
      r"\(4300 digits\)")
def _(ctx):
    write(ctx, "st/steam_reviews.json.gz", gzip.compress(STEAM_REVIEW))
    write(ctx, "st/steam_games.json.gz", gzip.compress(b'{"id": "1", "app_name": "A", "n": ' + b"9" * 5000 + b"}\n"))
    load_preset("steam", ctx.inputs / "st")


@case("unknown data preset", DataError, r"unknown data preset 'movielense'; expected one of \[")
def _(ctx):
    load_preset("movielense", ctx.inputs)


@case("a preset given a file, not a folder", DataError, r"data preset 'movielens': .*ratings\.csv is not a folder")
def _(ctx):
    load_preset("movielens", write(ctx, "ratings.csv", "userId,movieId,rating,timestamp\n"))


@case("a preset folder without the files of its layout", DataError, r"empty: expected one metadata file "
      r"\(meta_\*\.jsonl or meta_\*\.jsonl\.gz\), found none")
def _(ctx):
    (ctx.inputs / "empty").mkdir()
    load_preset("amazon-2023", ctx.inputs / "empty")


# ---- values in data files --------------------------------------------------------------------------

@case("a JSON number of 5000 digits", DataError, r"h\.jsonl: cannot be read as jsonl: Value is too big")
def _(ctx):
    line = b'{"user_id": "u1", "item_id": "1", "timestamp": ' + b"9" * 5000 + b"}\n"
    InteractionLog.load(write(ctx, "h.jsonl", line), catalog=ctx.catalog)


@case("a JSON Lines line that is a list", DataError, r"l\.jsonl: cannot be read as jsonl: every record must be a "
      r"JSON object")
def _(ctx):
    InteractionLog.load(write(ctx, "l.jsonl", '{"user_id": "u1", "item_id": "1", "timestamp": 1}\n[1, 2, 3]\n'),
                        catalog=ctx.catalog)


@case("item_id Infinity", DataError, r"column 'item_id' holds an infinite id \(inf\)")
def _(ctx):
    InteractionLog.load(write(ctx, "i.jsonl", '{"user_id": "u1", "item_id": Infinity, "timestamp": 1}\n'),
                        catalog=ctx.catalog)


@case("an infinite rating", DataError, r"r\.csv, line 2: rating 'inf' is not finite")
def _(ctx):
    InteractionLog.load(write(ctx, "r.csv", "user_id,item_id,timestamp,rating\nu1,1,10,inf\nu1,2,20,3\n"),
                        catalog=ctx.catalog)


@case("an infinite timestamp", DataError, r"t\.csv, line 2: timestamp 'inf' is not a finite time")
def _(ctx):
    InteractionLog.load(write(ctx, "t.csv", "user_id,item_id,timestamp\nu1,1,inf\nu1,2,20\n"), catalog=ctx.catalog)


@case("a negative infinite timestamp", DataError, r"t\.csv, line 3: timestamp '-inf' is not a finite time")
def _(ctx):
    InteractionLog.load(write(ctx, "t.csv", "user_id,item_id,timestamp\nu1,1,5\nu1,2,-inf\n"), catalog=ctx.catalog)


@case("a 1 MB title in a small .gz", DataError, r"big\.csv\.gz: item '1': field 'title' holds 1,000,000 characters, "
      r"over the 100,000 one field may hold")
def _(ctx):
    data = gzip.compress(b"item_id,title\n1," + b"x" * 1_000_000 + b"\n2,B\n")
    assert len(data) < 5_000
    ItemCatalog.load(write(ctx, "big.csv.gz", data), text_fields=("title",))


# ---- configs ----------------------------------------------------------------------------------------

def parse_yaml(ctx, text):
    from instructrec_peft.config import parse_config

    return parse_config([str(write(ctx, "run.yaml", text + f"\nmodel_name_or_path: x\noutput_dir: {ctx.out}\n"))])


@case("malformed YAML", ConfigError, r"run\.yaml, line 2, column 14: not valid YAML \(expected ',' or ']', but got "
      r"':'\); a config is a mapping")
def _(ctx):
    parse_yaml(ctx, "lora_r: [1, 2\nlearning_rate: 1")


@case("a YAML tag that would run Python", ConfigError, r"run\.yaml, line 1, column 9: not valid YAML \(could not "
      r"determine a constructor for the tag 'tag:yaml\.org,2002:python/object/apply:os\.system'\)")
def _(ctx):
    parse_yaml(ctx, "lora_r: !!python/object/apply:os.system ['touch pwned']")
    assert not (ctx.inputs / "pwned").exists()


@case("a config that is not UTF-8", ConfigError, r"run\.yaml: not valid UTF-8 \(byte 15\); save the config as UTF-8")
def _(ctx):
    from instructrec_peft.config import parse_config

    parse_config([str(write(ctx, "run.yaml", b"lora_r: 8\n# Jos\xe9\n"))])


@case("a config that is a list", ConfigError, r"run\.yaml: expected a mapping of field: value at the top level")
def _(ctx):
    from instructrec_peft.config import parse_config

    parse_config([str(write(ctx, "run.yaml", "- lora_r: 8\n"))])


@case("lora_r: 2.5", ConfigError, r"run\.yaml: ModelArguments\.lora_r is 2\.5 \(float\); expected int")
def _(ctx):
    parse_yaml(ctx, "lora_r: 2.5")


@case("lora_r: true", ConfigError, r"run\.yaml: ModelArguments\.lora_r is True \(bool\); expected int")
def _(ctx):
    parse_yaml(ctx, "lora_r: true")


@case("learning_rate: fast", ConfigError, r"InstructRecConfig\.learning_rate is 'fast' \(str\); expected float")
def _(ctx):
    parse_yaml(ctx, "learning_rate: fast")


@case("learning_rate: .inf", ConfigError, r"InstructRecConfig\.learning_rate is inf \(float\); expected float")
def _(ctx):
    parse_yaml(ctx, "learning_rate: .inf")


@case("task_mix: 5", ConfigError, r"DataArguments\.task_mix: unknown task form '5' in '5'")
def _(ctx):
    parse_yaml(ctx, "task_mix: 5")


@case("templates given as a string", ConfigError, r"DataArguments\.templates is 'p1-i0-matching-1' \(str\); "
      r"expected list\[str\] \| None; give a list, e.g\. \[a, b\]")
def _(ctx):
    parse_yaml(ctx, "templates: p1-i0-matching-1")


@case("a list of mappings for a list of names", ConfigError, r"ModelArguments\.lora_target_modules is "
      r"\[\{'q_proj': 1\}\] \(list\)")
def _(ctx):
    parse_yaml(ctx, "lora_target_modules: [{q_proj: 1}]")


@case("nothing to train", ConfigError, r"InstructRecConfig\.max_steps: -5 with num_train_epochs 0\.0 trains nothing; "
      r"set max_steps > 0 or num_train_epochs > 0")
def _(ctx):
    from instructrec_peft.config import parse_config

    parse_config(["--model_name_or_path", "x", "--output_dir", str(ctx.out), "--max_steps", "-5",
                  "--num_train_epochs", "0"])


@case("an unknown dtype", ConfigError, r"ModelArguments\.dtype: 'float8' is not one of \('auto'")
def _(ctx):
    from instructrec_peft.config import ModelArguments

    ModelArguments(model_name_or_path="x", dtype="float8")


@case("an unknown data preset in a config", ConfigError, r"DataArguments\.data_preset: 'imdb' is not one of \(")
def _(ctx):
    from instructrec_peft.config import DataArguments

    DataArguments(data_preset="imdb")


@case("an unknown time unit", ConfigError, r"DataArguments\.time_unit: 'hours' is not one of")
def _(ctx):
    from instructrec_peft.config import DataArguments

    DataArguments(time_unit="hours")


@case("a missing model folder, tokenizer first", MissingFileError, r"ModelArguments\.model_name_or_path: .*"
      r"no-such-model does not exist \(not a folder on this machine")
def _(ctx):
    from instructrec_peft.config import ModelArguments
    from instructrec_peft.models.loading import load_tokenizer

    load_tokenizer(ModelArguments(model_name_or_path=str(ctx.inputs / "no-such-model")))


@case("a model folder without a tokenizer", MissingFileError, r"model_name_or_path: '.*empty-model': the tokenizer "
      r"could not be loaded \(ValueError: .*\); give a folder on this machine that holds it")
def _(ctx):
    from instructrec_peft.config import ModelArguments
    from instructrec_peft.models.loading import load_tokenizer

    (ctx.inputs / "empty-model").mkdir()
    load_tokenizer(ModelArguments(model_name_or_path=str(ctx.inputs / "empty-model")))


# ---- a run folder: saved config, manifest, adapter --------------------------------------------------

def copied(ctx, source=None) -> Path:
    """A copy of an adapter folder (the text-only one by default) under ``ctx.inputs``, to break."""
    folder = ctx.inputs / "adapter"
    shutil.copytree(source or ctx.adapter, folder)
    return folder


def tampered(ctx, source=None, **edits):
    """A copy of an adapter folder with ``edits`` {file name: function(dict) -> dict} applied,
    its run record rewritten to match (so the edit, not the record, is what gets refused)."""
    from instructrec_peft.run_dir import RunDir

    folder = copied(ctx, source)
    for name, edit in edits.items():
        path = folder / name.replace("__", ".")
        path.write_text(json.dumps(edit(json.loads(path.read_text()))))
    RunDir(folder).write_record()
    return str(folder)


def load_rec(ctx, folder):
    from instructrec_peft.inference.recommender import Recommender

    return Recommender.from_pretrained(folder)


@case("a saved config with an unknown field", ConfigError, r"instructrec_config\.json: unknown ModelArguments "
      r"field\(s\) \['evil'\]")
def _(ctx):
    load_rec(ctx, tampered(ctx, instructrec_config__json=lambda c: {**c, "model": {**c["model"], "evil": 1}}))


@case("a saved config with a wrongly typed field", ConfigError, r"instructrec_config\.json: ModelArguments\.lora_r "
      r"is '16' \(str\); expected int")
def _(ctx):
    load_rec(ctx, tampered(ctx, instructrec_config__json=lambda c: {**c, "model": {**c["model"], "lora_r": "16"}}))


@case("a saved config whose model section is a list", ConfigError, r"field 'model' must be a mapping of "
      r"ModelArguments fields, got list")
def _(ctx):
    load_rec(ctx, tampered(ctx, instructrec_config__json=lambda c: {**c, "model": []}))


@case("a saved config asking for remote code", ConfigError, r"tuned with trust_remote_code: true.*opt in yourself")
def _(ctx):
    load_rec(ctx, tampered(ctx, instructrec_config__json=lambda c: {
        **c, "model": {**c["model"], "trust_remote_code": True}}))


@case("a saved config that is not JSON", DataError, r"instructrec_config\.json: not valid JSON")
def _(ctx):
    from instructrec_peft.run_dir import RunDir

    folder = copied(ctx)
    (folder / "instructrec_config.json").write_text("{not json")
    RunDir(folder).write_record()
    load_rec(ctx, str(folder))


@case("a manifest field of the wrong type", ArgumentError, r"template manifest: field 'max_prompt_tokens' is 'many' "
      r"\(str\); expected int")
def _(ctx):
    load_rec(ctx, tampered(ctx, instructrec_manifest__json=lambda m: {**m, "max_prompt_tokens": "many"}))


@case("a manifest that is a list", ArgumentError, r"template manifest: expected a JSON object, got list")
def _(ctx):
    load_rec(ctx, tampered(ctx, instructrec_manifest__json=lambda m: [m]))


@case("a manifest template with an unknown field", TemplateError, r"template manifest: template '[\w-]+' has "
      r"unknown field\(s\) \['exec'\]")
def _(ctx):
    load_rec(ctx, tampered(ctx, instructrec_manifest__json=lambda m: {
        **m, "templates": [{**m["templates"][0], "exec": "os.system('x')"}]}))


@case("a manifest template whose prompt is not text", TemplateError, r"the prompt must be a non-empty string, got "
      r"list")
def _(ctx):
    from instructrec_peft.instructions.templates import Template

    Template(name="listy", preference="P1", intention="I0", task="matching", prompt=["{history}"], response="{target}")


@case("an item-token map with first_id 1e12", ArgumentError, r"item-token map: first_id must be a whole token id, "
      r"got 1000000000000\.0")
def _(ctx):
    load_rec(ctx, tampered(ctx, ctx.item_adapter, instructrec_manifest__json=lambda m: {
        **m, "item_tokens": {**m["item_tokens"], "first_id": 1e12}}))


@case("an item-token map with a huge whole first_id", DataError, r"the item-token map does not match the tokenizer: "
      r"<\|item_0\|> \(item '\d+'\) should be token 1000000000000")
def _(ctx):
    load_rec(ctx, tampered(ctx, ctx.item_adapter, instructrec_manifest__json=lambda m: {
        **m, "item_tokens": {**m["item_tokens"], "first_id": 10**12}}))


@case("an item-token adapter without its manifest", MissingFileError, r"the adapter trains item-token rows, but "
      r"instructrec_manifest\.json \(which maps them to items\) is missing")
def _(ctx):
    from instructrec_peft.models.loading import load_adapter
    from instructrec_peft.run_dir import RunDir

    folder = copied(ctx, ctx.item_adapter)
    (folder / "instructrec_manifest.json").unlink()
    RunDir(folder).write_record()
    load_adapter(str(folder))


@case("an adapter config with r: 1e6", ArgumentError, r"adapter_config\.json: r is 1000000\.0 but the weights have "
      r"rank \[4\]")
def _(ctx):
    load_rec(ctx, tampered(ctx, adapter_config__json=lambda c: {**c, "r": 1e6}))


@case("an adapter config with another whole rank", ArgumentError, r"adapter_config\.json: r is 999 but the weights "
      r"have rank \[4\]; the config does not belong to these weights")
def _(ctx):
    load_rec(ctx, tampered(ctx, adapter_config__json=lambda c: {**c, "r": 999}))


@case("a truncated adapter_model.safetensors (no run record)", ArgumentError, r"adapter_model\.safetensors: not a "
      r"readable safetensors file .*corrupt or truncated")
def _(ctx):
    folder = copied(ctx)
    (folder / "instructrec_run.json").unlink()  # as written before run records existed
    weights = folder / "adapter_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:300])
    load_rec(ctx, str(folder))


@case("a truncated adapter_model.safetensors", DataError, r"adapter_model\.safetensors is not the file this run "
      r"wrote \(its sha256 differs from instructrec_run\.json\)")
def _(ctx):
    folder = copied(ctx)
    weights = folder / "adapter_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:300])
    load_rec(ctx, str(folder))


@case("a folder mixing two runs", DataError, r"instructrec_config\.json is not the file this run wrote.*mixes parts "
      r"of different runs")
def _(ctx):
    folder = copied(ctx)
    shutil.copy2(Path(ctx.item_adapter) / "instructrec_config.json", folder / "instructrec_config.json")
    load_rec(ctx, str(folder))


@case("a run record naming a file that is gone", DataError, r"tokenizer\.json is missing; the folder is not one "
      r"whole run")
def _(ctx):
    folder = copied(ctx)
    (folder / "tokenizer.json").unlink()
    load_rec(ctx, str(folder))


@case("a run record naming a path outside the folder", DataError, r"the record names '\.\./\.\./etc/passwd', which "
      r"is not a file of the run folder")
def _(ctx):
    folder = copied(ctx)
    record = json.loads((folder / "instructrec_run.json").read_text())
    record["files"]["../../etc/passwd"] = "0" * 64
    (folder / "instructrec_run.json").write_text(json.dumps(record))
    load_rec(ctx, str(folder))


@case("an adapter config that is not JSON", DataError, r"adapter_config\.json: not valid JSON")
def _(ctx):
    from instructrec_peft.run_dir import RunDir

    folder = copied(ctx)
    (folder / "adapter_config.json").write_text("{")
    RunDir(folder).write_record()
    load_rec(ctx, str(folder))


@case("an adapter without its tokenizer files", MissingFileError, r"the adapter's tokenizer cannot be loaded .*copy "
      r"the whole folder")
def _(ctx):
    from instructrec_peft.run_dir import RunDir

    folder = copied(ctx)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        (folder / name).unlink()
    RunDir(folder).write_record()
    load_rec(ctx, str(folder))


# ---- the Recommender and the command line -----------------------------------------------------------

@case("an unknown item for an item-token adapter", ArgumentError, r"unknown item 'No Such Film': neither an item id "
      r"nor an item text of the adapter's \d+ items")
def _(ctx):
    ctx.item_recommender().recommend(["No Such Film"], k=3)


@case("more recommendations than items", ArgumentError, r"only \d+ items are not in the history; asked for 1000")
def _(ctx):
    rec = ctx.item_recommender()
    rec.recommend(rec.item_tokens.items[:2], k=1000)


@case("k = 0", ArgumentError, r"k must be >= 1, got 0")
def _(ctx):
    rec = ctx.item_recommender()
    rec.recommend(rec.item_tokens.items[:2], k=0)


@case("-k 0 on the command line, before any model loads", SystemExit, r"^2$")
def _(ctx):
    from instructrec_peft.cli import main

    ctx.monkeypatch.setattr("instructrec_peft.inference.app.load_recommender", lambda *a, **k: pytest.fail("loaded"))
    try:
        main(["recommend", ctx.adapter, "--history", "Film A0", "-k", "0"])
    finally:
        assert "argument -k: must be >= 1, got 0" in ctx.capsys.readouterr().err


@case("add_items given one string", ArgumentError, r"add_items takes a list of item ids and a list of texts, not a "
      r"single string")
def _(ctx):
    ctx.item_recommender().add_items("new", "New Film")


@case("add_items with more ids than texts", ArgumentError, r"2 items but 1 texts")
def _(ctx):
    ctx.item_recommender().add_items(["n1", "n2"], ["New Film"])


@case("add_items with an empty text", ArgumentError, r"item text '' has no tokens to initialise its item token from")
def _(ctx):
    ctx.item_recommender().add_items(["n1"], [""])


@case("add_items for an item that has a token", ArgumentError, r"item '\d+' already has a token")
def _(ctx):
    rec = ctx.item_recommender()
    rec.add_items([rec.item_tokens.items[0]], ["Again"])


@case("explain without a history", ArgumentError, r"the history is empty: nothing to explain from")
def _(ctx):
    ctx.recommender().explain([], "Film A0")


@case("feedback without a log", ArgumentError, r"no feedback log: set Recommender\.feedback_path")
def _(ctx):
    ctx.recommender().record_feedback("u1", "Film A0", accepted=True)


@case("feedback with a history given as one string", DataError, r"feedback history: expected a list of item ids or "
      r"texts, got 'Film A0'")
def _(ctx):
    from instructrec_peft.data.feedback import Feedback

    Feedback(user="app", item="Film B1", accepted=True, history="Film A0")


@case("feedback at a negative time", DataError, r"feedback time: expected seconds since the epoch, got -1")
def _(ctx):
    from instructrec_peft.data.feedback import Feedback

    Feedback(user="u1", item="Film B1", accepted=True, time=-1)


@case("feedback for a user the log lacks, without a history", DataError, r"feedback of user 'stranger': the user is "
      r"not in the interaction log and the record carries no history of its own")
def _(ctx):
    from instructrec_peft.config import DataArguments
    from instructrec_peft.data.feedback import Feedback
    from instructrec_peft.data.split import leave_one_out
    from instructrec_peft.instructions.feedback_examples import feedback_examples
    from instructrec_peft.models.workspace import load_log

    log = load_log(DataArguments(dataset=ctx.assets["data"]))
    feedback_examples([Feedback(user="stranger", item="1", accepted=True)], leave_one_out(log), log.catalog)


@case("a template registered twice", TemplateError, r"template 'p1-i0-matching-1' is already registered")
def _(ctx):
    from instructrec_peft.instructions.templates import get_template, register_template

    register_template(get_template("p1-i0-matching-1").to_dict())


def test_the_table_has_at_least_seventy_cases():
    assert len(CASES) >= 70


@pytest.fixture(scope="module")
def adapter(tiny_assets, tmp_path_factory):
    from training_helpers import tiny_configs

    from instructrec_peft.training.tuning import run_tuning

    out = tmp_path_factory.mktemp("adapter") / "out"
    run_tuning(*tiny_configs(tiny_assets, out, max_steps=1))
    return str(out)


@pytest.fixture(scope="module")
def item_adapter(tiny_assets, tmp_path_factory):
    from training_helpers import tiny_configs

    from instructrec_peft.training.tuning import run_tuning

    out = tmp_path_factory.mktemp("item-adapter") / "out"
    run_tuning(*tiny_configs(tiny_assets, out, max_steps=1, item_tokens=True, item_token_init="text"))
    return str(out)


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_gets_an_error_that_names_the_problem(name, tmp_path, tiny_assets, toy_catalog, adapter,
                                                        item_adapter, monkeypatch, capsys):
    from instructrec_peft.inference.recommender import Recommender

    fn, error, match = CASES[name]
    ctx = SimpleNamespace(inputs=tmp_path / "in", out=tmp_path / "out", catalog=toy_catalog, assets=tiny_assets,
                          adapter=adapter, item_adapter=item_adapter, monkeypatch=monkeypatch, capsys=capsys,
                          recommender=lambda: Recommender.from_pretrained(adapter),
                          item_recommender=lambda: Recommender.from_pretrained(item_adapter))
    ctx.inputs.mkdir()
    with pytest.raises(error, match=match):
        fn(ctx)
    written = [p for p in ctx.out.rglob("*") if p.is_file()] if ctx.out.exists() else []
    assert written == [], f"partial output left behind: {written}"


def test_handled_input_is_cleaned_and_reported(toy_catalog, tmp_path):
    # Duplicates and unknown items are dropped with a count; short users stay in training only.
    path = tmp_path / "i.csv"
    path.write_text("user_id,item_id,timestamp\nu1,1,10\nu1,1,10\nu1,2,20\nu1,3,30\nu1,99,40\nu2,4,5\n")
    log = InteractionLog.load(path, catalog=toy_catalog)
    assert (log.report.duplicates, log.report.unknown_items, log.report.rows_out) == (1, 1, 4)
    from instructrec_peft.data.split import leave_one_out

    split = leave_one_out(log)
    assert split.evaluated == ["u1"] and split.short_users == ["u2"]
    assert log.report.summary() == ("6 rows read, 4 kept (2 users, 4 items); dropped 2: 0 with a missing user or item "
                                    "id, 0 with a missing timestamp, 1 exact duplicates, 1 of items absent from the "
                                    "catalogue; timestamp: numbers read as seconds (detected from their size), "
                                    "1970-01-01 to 1970-01-01 (numbers that only order the events, it seems: their "
                                    "order is all that is used)")
