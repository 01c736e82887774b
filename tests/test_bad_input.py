"""Bad input, case by case: each gets an error that names the problem, and nothing partial is written.

Every case builds its input under ``ctx.inputs`` and may only write under ``ctx.out``; after the
error ``ctx.out`` must hold no file.
"""

import sys
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from instructrec_peft import InteractionLog, ItemCatalog
from instructrec_peft.errors import DataError, TemplateError

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


@case("non-UTF-8 bytes", DataError, r"latin\.csv: not valid UTF-8 .*re-encode the file")
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
    from instructrec_peft.models.config import parse_config

    parse_config([str(write(ctx, "run.yaml", f"lerning_rate: 0.1\noutput_dir: {ctx.out}\n"))])


@case("model path missing", FileNotFoundError, r"model_name_or_path: .*/no-such-model does not exist")
def _(ctx):
    from instructrec_peft.models.config import ModelArguments
    from instructrec_peft.models.loading import load_base_model

    load_base_model(ModelArguments(model_name_or_path=str(ctx.inputs / "no-such-model")))


@case("corrupt safetensors", ValueError, r"gpt2: a weights file is corrupt or truncated")
def _(ctx):
    import shutil

    from instructrec_peft.models.config import ModelArguments
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
    from instructrec_peft.models.config import ModelArguments
    from instructrec_peft.models.loading import quantization_config

    ctx.monkeypatch.setitem(sys.modules, "bitsandbytes", None)  # makes `import bitsandbytes` fail
    quantization_config(ModelArguments(model_name_or_path="x", quantization="4bit"))


@case("unknown task form in the mix", ValueError, r"DataArguments.task_mix: unknown task form 'matchng'")
def _(ctx):
    from instructrec_peft.models.config import DataArguments

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


def test_the_table_has_at_least_twenty_cases():
    assert len(CASES) >= 20


@pytest.fixture(scope="module")
def adapter(tiny_assets, tmp_path_factory):
    from training_helpers import tiny_configs

    from instructrec_peft.training.tuning import run_tuning

    out = tmp_path_factory.mktemp("adapter") / "out"
    run_tuning(*tiny_configs(tiny_assets, out, max_steps=1))
    return str(out)


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_gets_an_error_that_names_the_problem(name, tmp_path, tiny_assets, toy_catalog, adapter,
                                                        monkeypatch):
    from instructrec_peft.inference.recommender import Recommender

    fn, error, match = CASES[name]
    ctx = SimpleNamespace(inputs=tmp_path / "in", out=tmp_path / "out", catalog=toy_catalog, assets=tiny_assets,
                          adapter=adapter, monkeypatch=monkeypatch,
                          recommender=lambda: Recommender.from_pretrained(adapter))
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
