"""``python -m mnistlib``: list the models, train one, evaluate a checkpoint, reproduce the study.

Bad arguments and bad input exit non-zero with a one-line reason on stderr.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from .training.config import FAST_PATH, PROFILES
from .data import AUGMENTATIONS, DataError
from .models import get_model_info, list_models
from .study import (ABLATION_OUT, ABLATION_SEEDS, AUDIT_OUT, DEFAULT_SEEDS, LADDER_OUT, LADDER_SEEDS, STUDY_OUT,
                    TUNING_OUT)

EXIT_USAGE, EXIT_FAILURE = 2, 1


class UsageError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line instead of the usage block."""

    def error(self, message):
        raise UsageError(f"{self.prog}: {message} (see --help)")


def format_table(rows: list[dict], columns: list[str]) -> str:
    cells = [[str(r.get(c, "")) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    line = lambda values: "  ".join(v.rjust(w) if i else v.ljust(w) for i, (v, w) in enumerate(zip(values, widths)))
    return "\n".join([line(columns), line(["-" * w for w in widths])] + [line(r) for r in cells])


def _num(value, fmt="{:,}"):
    return "-" if value is None else fmt.format(value)


def models_table() -> list[dict]:
    rows = []
    for name in list_models():
        info = get_model_info(name)
        rows.append({"model": name, "params": _num(info.count_params()), "reported params": _num(info.reported_params),
                     "reported acc %": _num(info.reported_accuracy, "{:.2f}"),
                     "batch-dependent": "yes" if info.batch_dependent else "no", "description": info.summary})
    return rows


def cmd_models(args) -> None:
    print(format_table(models_table(), ["model", "params", "reported params", "reported acc %", "batch-dependent",
                                        "description"]))


COMPILE_HELP = ("train through torch.compile (the CPU's fast path: the eager computation up to rounding; shao_cnn's "
                "epoch 1.4 times as fast, results/full/PLAN.md; compiling costs about half a minute per run)")


def _train_overrides(args) -> dict:
    fast = dict(FAST_PATH) if args.fast else {}
    fast = fast or ({"cuda_graph": True} if args.cuda_graph else {})
    fast = {**fast, **({"compile": True} if args.compile else {}),
            **({"channels_last": True} if args.channels_last else {})}
    return {"epochs": args.epochs, "batch_size": args.batch_size, "eval_batch_size": args.eval_batch_size,
            "lr": args.lr, "seed": args.seed,
            "device": args.device, "augment": args.augment, **fast}


def cmd_train(args) -> None:
    from .study.run import train_run

    get_model_info(args.model)
    if args.distributed:
        from .training.distributed import init_from_environment

        args.device = init_from_environment(args.device)
    train_run(args.model, args.profile, recipe=args.recipe, out=args.out, resume=args.resume, overwrite=args.overwrite,
              dataset=args.dataset, data_root=args.data, quiet=args.quiet, **_train_overrides(args))


def cmd_evaluate(args) -> None:
    from .study.run import evaluate_checkpoint

    meta, result = evaluate_checkpoint(args.checkpoint, data_root=args.data, device=args.device,
                                       batch_size=args.batch_size)
    print(f"{meta['model']} ({args.checkpoint}): test accuracy {100 * result.accuracy:.2f}%, "
          f"loss {result.loss:.4f}, {result.n:,} images, batch {result.batch_size}")
    rows = [{"class": c, "accuracy %": f"{100 * a:.2f}", "errors": sum(result.confusion[c]) - result.confusion[c][c]}
            for c, a in enumerate(result.per_class_accuracy)]
    print(format_table(rows, ["class", "accuracy %", "errors"]))


def cmd_audit_selection(args) -> None:
    from .study.selection_audit import audit_selection, audit_table

    audited = audit_selection(out=args.out, device=args.device, compile=args.compile)
    rows = audit_table(audited)
    print(format_table(rows, list(rows[0])) if rows else "nothing audited")


def cmd_batch_audit(args) -> None:
    from .study.batch_audit import write_batch_audits

    print(f"wrote {write_batch_audits(args.results, device=args.device)}")


def cmd_collapses(args) -> None:
    from .study.collapse import check_collapses

    checks = check_collapses(args.out, device=args.device)
    rows = [{"factor": c.factor, "value": c.value, "seed": c.seed, "recorded val %": f"{c.recorded:.2f}",
             "batch statistics %": f"{c.batch_statistics:.2f}", "continued %": f"{c.continued:.2f}"} for c in checks]
    print(format_table(rows, list(rows[0])) if rows else "no collapsed run in the ablation")


def cmd_ladder(args) -> None:
    from .study.ladder import run_ladder, write_ladder

    rows = (write_ladder(args.out, args.study) if args.summary_only else
            run_ladder(args.seeds, args.out, profile=args.profile, device=args.device, compile=args.compile,
                       study=args.study))
    print(format_table(rows, ["rung", "seeds", "test %", "95% interval %", "Δ vs rung below (points, 95% CI)",
                              "CPU min per seed"]) if rows else "no rung has finished runs yet")


def cmd_audit(args) -> None:
    from .training.evaluate import batch_dependence_audit
    from .study.run import load_trained

    meta, model, data, _ = load_trained(args.checkpoint, data_root=args.data, device=args.device)
    if meta["model"] != args.model:
        raise ValueError(f"{args.checkpoint} holds a {meta['model']} model, not {args.model}")
    audit = batch_dependence_audit(model, data.test, batch_sizes=args.batch_sizes, fixed_batch_size=args.size,
                                   compositions=args.compositions, seed=args.seed)
    print(f"{args.model}: batch dependence on the {audit.n:,} test images ({args.checkpoint})")
    print(format_table([{"batch size": f"{b:,}", "test accuracy %": f"{100 * a:.2f}"}
                        for b, a in audit.accuracy_by_batch_size.items()], ["batch size", "test accuracy %"]))
    accs = [100 * a for a in audit.composition_accuracies]
    print(f"{len(accs)} random batch compositions at batch size {audit.fixed_batch_size}: accuracy "
          f"{min(accs):.2f}% to {max(accs):.2f}% (spread {max(accs) - min(accs):.2f} points)")
    print(f"predictions that change when only their batch-mates change: {audit.changed_count:,} of {audit.n:,} "
          f"({100 * audit.changed_fraction:.2f}%)")


def cmd_reproduce(args) -> None:
    from .study.reproduce import reproduce

    limits = None if args.resnet_seeds is None else {"resnet": args.resnet_seeds}
    reproduce(args.out, models=args.models, seeds=args.seeds, datasets=args.datasets, profile=args.profile,
              device=args.device, data_root=args.data, seed_limits=limits, cuda_graph=args.cuda_graph,
              compile=args.compile, channels_last=args.channels_last, compare_with=args.compare_with,
              quiet=args.quiet, train=not args.summary_only,
              wait=args.wait)
    print(f"summary written to {Path(args.out) / 'summary.md'}")


def cmd_bench(args) -> None:
    from .study.bench import bench, findings, table_rows, write_bench

    result = bench(args.models, device=args.device, subset=args.subset, epochs=args.epochs,
                   batch_size=args.batch_size, workers=tuple(args.workers), improved=args.improved)
    rows = table_rows(result)
    print(format_table(rows, list(rows[0])))
    for line in findings(result):
        print(line)
    if args.out:
        print(f"written to {write_bench(result, args.out)}")


def cmd_tune(args) -> None:
    from .study.hyperparameters import tune

    study = tune(args.profile, args.trials, storage=args.storage, study_name=args.study, out=args.out,
                 device=args.device, until=args.until, cuda_graph=args.cuda_graph, compile=args.compile,
                 sampler_seed=args.sampler_seed)
    done = [t for t in study.trials if t.value is not None]
    print(f"study {args.study}: {len(study.trials)} trials ({len(done)} finished)")
    if done:
        print(f"best validation accuracy {100 * study.best_value:.2f}% with {study.best_params}")
    if args.final_seeds and done:
        from .study.hyperparameters import retrain_best

        retrain_best(study, args.profile, args.final_seeds, args.out, device=args.device, cuda_graph=args.cuda_graph,
                     compile=args.compile)


def cmd_ablate(args) -> None:
    from .study.hyperparameters import ablation_table, load_ablation, run_ablation, write_ablation_summary

    if args.summary_only:
        csv_path = Path(args.out) / "ablation.csv"
        if not csv_path.exists():
            raise FileNotFoundError(f"{csv_path} does not exist: run `python -m mnistlib ablate --out {args.out}` "
                                    "first, or point --out at the folder that holds it")
        runs = load_ablation(csv_path)
        profile = runs[0].profile if runs else args.profile
    else:
        runs = run_ablation(args.profile, args.seeds, args.out, args.factors, device=args.device, compile=args.compile,
                            wait=args.wait)
        profile = args.profile
    path = write_ablation_summary(runs, args.out, profile)
    rows = ablation_table(runs)
    if rows:
        print(format_table(rows, list(rows[0])))
    print(f"summary written to {path}")


def cmd_export(args) -> None:
    from .study.export import describe_export, export_onnx

    path = export_onnx(args.weights, args.onnx, layers=args.layers)
    about = describe_export(path)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB) and {path.with_suffix('.json').name}: {about['model']}"
          f"{' (' + about['recipe'] + ')' if about['recipe'] else ''}, seed {about['seed']}, test "
          f"{100 * about['test_accuracy']:.2f}%, opset {about['opset']}, input raw pixels 0-255")


def cmd_sync(args) -> None:
    from . import __version__
    from .course.launch import sync

    changed = sync(__version__)
    print("\n".join(f"rewrote {p}" for p in changed) or "everything already matches _config.yml")


def cmd_plan(args) -> None:
    from .study import TRAINING_PATHS, measure_gpu, measure_paths, write_path_timings, write_plan

    unknown = [p for p in args.paths or [] if p not in TRAINING_PATHS]
    if unknown:
        raise UsageError(f"unknown path {', '.join(map(repr, unknown))}: choose from "
                         f"{', '.join(map(repr, TRAINING_PATHS))}")
    for model in args.measure_paths or []:
        get_model_info(model)  # an unknown model fails before minutes of timing
    if args.measure_paths:
        print(f"wrote {write_path_timings(measure_paths(args.measure_paths, args.paths), args.results)}")
    if args.measure_gpu:
        print(f"wrote {measure_gpu(args.results, device=args.device or 'cuda')}")
    print(f"wrote {write_plan(args.results, measure_now=args.measure)}")


def cmd_book(args) -> None:
    from .course.book import build_book

    build_book(args.profile, args.out, workers=args.workers)


WAIT_HELP = ("when another runner holds the results folder's lock, wait for it to finish (default: stop at once, "
             "naming it)")


def build_parser() -> Parser:
    parser = Parser(prog="mnistlib", description="The mnist-course library: models, training, evaluation.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    sub.add_parser("models", help="list the model registry").set_defaults(func=cmd_models)

    def common(p):
        p.add_argument("--data", help="folder holding the four IDX files (default: $MNIST_DATA, data/, download)")
        p.add_argument("--dataset", default="mnist", help="mnist or fashion_mnist")
        p.add_argument("--device", help="cpu, cuda or cuda:N (default: CUDA when present)")
        p.add_argument("--quiet", action="store_true", help="no progress bar")

    def fast_paths(p):
        """The two fast paths that compute what the eager loop computes, up to rounding."""
        p.add_argument("--cuda-graph", action="store_true",
                       help="replay each step from a CUDA graph, fp32 and deterministic cuDNN (the eager computation "
                            "up to rounding: fused Adam; GPU)")
        p.add_argument("--compile", action="store_true", help=COMPILE_HELP)
        p.add_argument("--channels-last", action="store_true",
                       help="hold the network in the channels-last layout (the large convolutional models' faster "
                            "layout on a CPU: results/full/PLAN.md; the same computation up to rounding)")

    train = sub.add_parser("train", help="train one model and write its result JSON")
    train.add_argument("model")
    train.add_argument("--profile", choices=PROFILES, default="quick")
    train.add_argument("--recipe", help="an alternative recipe of the model (shao_cnn: improved)")
    train.add_argument("--epochs", type=int)
    train.add_argument("--batch-size", type=int)
    train.add_argument("--eval-batch-size", type=int,
                       help="validation/test batch size (default: the training batch size for batch-dependent "
                            "models, else 2000)")
    train.add_argument("--lr", type=float)
    train.add_argument("--seed", type=int)
    train.add_argument("--augment", nargs="?", const="affine", choices=AUGMENTATIONS,
                       help="on-device augmentation (alone: affine = random rotation, shift and scale)")
    train.add_argument("--out", default="runs", help="folder for the result JSON and checkpoint (default runs/)")
    train.add_argument("--resume", action="store_true", help="continue the interrupted run in --out")
    train.add_argument("--overwrite", action="store_true", help="discard an earlier checkpoint of this run")
    train.add_argument("--fast", action="store_true",
                       help="the fast path: CUDA-graph replay, bf16 autocast, non-deterministic cuDNN (GPU)")
    fast_paths(train)
    train.add_argument("--distributed", action="store_true",
                       help="data-parallel under torchrun: the global --batch-size is split across replicas")
    common(train)
    train.set_defaults(func=cmd_train)

    ev = sub.add_parser("evaluate", help="evaluate a checkpoint on the test set")
    ev.add_argument("checkpoint")
    ev.add_argument("--batch-size", type=int)
    common(ev)
    ev.set_defaults(func=cmd_evaluate)

    selection = sub.add_parser("audit-selection", help="measure what choosing the epoch on the test set would add "
                               "(the sources' practice; an audit, never a verdict)")
    selection.add_argument("--out", default=str(AUDIT_OUT))
    selection.add_argument("--device")
    selection.add_argument("--compile", action="store_true", help=COMPILE_HELP)
    selection.set_defaults(func=cmd_audit_selection)

    batch = sub.add_parser("batch-audit", help="audit the committed networks' batch dependence once (chapter 5 reads "
                           "it; a network is audited again when its weights change)")
    batch.add_argument("--results", default=str(STUDY_OUT))
    batch.add_argument("--device")
    batch.set_defaults(func=cmd_batch_audit)

    collapses = sub.add_parser("collapses", help="test why the ablation's collapsed runs collapsed (each trained "
                               "again without early stopping; batch-norm statistics recomputed at its selected epoch)")
    collapses.add_argument("--out", default=str(ABLATION_OUT))
    collapses.add_argument("--device")
    collapses.set_defaults(func=cmd_collapses)

    ladder = sub.add_parser("ladder", help="climb the ladder of recipes past the paper's claim (the same CNN: "
                            "longer training with a weight average, test-time augmentation, the ensemble)")
    ladder.add_argument("--seeds", type=int, default=LADDER_SEEDS)
    ladder.add_argument("--profile", choices=PROFILES, default="full")
    ladder.add_argument("--out", default=str(LADDER_OUT))
    ladder.add_argument("--study", default=str(STUDY_OUT), help="the study whose paper and improved runs are rungs 1-2")
    ladder.add_argument("--summary-only", action="store_true", help="rewrite the tables from the finished runs")
    ladder.add_argument("--device")
    ladder.add_argument("--compile", action="store_true", help=COMPILE_HELP)
    ladder.set_defaults(func=cmd_ladder)

    audit = sub.add_parser("audit", help="measure how much a model's predictions depend on their batch")
    audit.add_argument("model")
    audit.add_argument("checkpoint")
    audit.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 16, 64, 256, 10_000])
    audit.add_argument("--size", type=int, default=64, help="batch size of the random compositions")
    audit.add_argument("--compositions", type=int, default=5)
    audit.add_argument("--seed", type=int, default=0)
    common(audit)
    audit.set_defaults(func=cmd_audit)

    tune = sub.add_parser("tune", help="Optuna search over Shao et al.'s hyperparameters (validation only)")
    tune.add_argument("--profile", choices=PROFILES, default="quick")
    tune.add_argument("--trials", type=int, default=20, help="trials to add to the study (default 20)")
    tune.add_argument("--until", type=int, metavar="N",
                      help="instead: add trials until the study has N finished ones (a study split across sessions)")
    tune.add_argument("--storage", help="Optuna storage URL (default: sqlite:///<out>/optuna.db); share it to "
                                        "let several workers join one study")
    tune.add_argument("--study", default="shao_cnn", help="study name")
    tune.add_argument("--out", default=str(TUNING_OUT))
    tune.add_argument("--device")
    tune.add_argument("--final-seeds", type=int, default=0,
                      help="then train the best configuration with this many seeds and test it (best.csv)")
    tune.add_argument("--cuda-graph", action="store_true",
                      help="replay each training step from a CUDA graph (fp32: the same computation, faster)")
    tune.add_argument("--compile", action="store_true", help=COMPILE_HELP)
    tune.add_argument("--sampler-seed", type=int,
                      help="seed TPE's sampler (plus the trials the study holds): the same trials from the same "
                           "history; leave it unset when workers share a study")
    tune.set_defaults(func=cmd_tune)

    ablate = sub.add_parser("ablate", help="vary Shao et al.'s hyperparameters one at a time")
    ablate.add_argument("--profile", choices=PROFILES, default="quick")
    ablate.add_argument("--seeds", type=int, default=ABLATION_SEEDS,
                        help=f"seeds per variant (default {ABLATION_SEEDS})")
    ablate.add_argument("--factors", nargs="+", help="a subset of the factors (default: all)")
    ablate.add_argument("--out", default=str(ABLATION_OUT))
    ablate.add_argument("--device")
    ablate.add_argument("--compile", action="store_true", help=COMPILE_HELP)
    ablate.add_argument("--summary-only", action="store_true",
                        help="train nothing: rewrite summary.{md,csv} from <out>/ablation.csv")
    ablate.add_argument("--wait", action="store_true", help=WAIT_HELP)
    ablate.set_defaults(func=cmd_ablate)

    plan = sub.add_parser("plan", help="the CPU study's plan: epoch times, runs done, hours left (results/full/PLAN.md)")
    plan.add_argument("--measure", action="store_true", help="time one epoch of every configuration first (minutes)")
    plan.add_argument("--results", default="results", help="the results folder (default results/)")
    plan.add_argument("--measure-gpu", action="store_true",
                      help="on a GPU: time one epoch of each model left to it (results/gpu/epoch_times.json)")
    plan.add_argument("--device", help="the GPU for --measure-gpu (default cuda)")
    plan.add_argument("--measure-paths", nargs="+", metavar="MODEL",
                      help="time an epoch of these models eagerly and compiled, each in both layouts, and their "
                           "training GFLOP/s (pause the study's runner first: minutes a model)")
    plan.add_argument("--paths", nargs="+", metavar="PATH",
                      help="only these paths, e.g. 'compiled, channels-last' (with --measure-paths)")
    plan.set_defaults(func=cmd_plan)

    export = sub.add_parser("export", help="export a trained run to ONNX (normalisation inside the graph, dynamic "
                            "batch) with a JSON of its provenance beside it")
    export.add_argument("weights", help="a run's <run>.weights.pt or <run>.pt, its <run>.json beside it")
    export.add_argument("--onnx", required=True, help="the ONNX file to write")
    export.add_argument("--layers", action="store_true", help="also output every conv block's maps, the first "
                        "convolution before batch norm and the softmax (Shao et al.'s CNN: the draw page's view)")
    export.set_defaults(func=cmd_export)
    sub.add_parser("sync", help="regenerate the chapters' launch links and install cell and the README's badges "
                   "from _config.yml's repository URL").set_defaults(func=cmd_sync)
    book = sub.add_parser("book", help="execute the chapters with papermill and build the Jupyter Book")
    book.add_argument("--profile", choices=PROFILES, default="quick")
    book.add_argument("--out", default="_build", help="build folder (default _build/)")
    book.add_argument("--workers", type=int, default=1, help="chapters executed at once, each in its own kernel "
                      "with an equal share of the CPU's threads (default 1)")
    book.set_defaults(func=cmd_book)


    rep = sub.add_parser("reproduce", help="the full study: every model, its source's recipe and the course's "
                                           "alternatives, several seeds, a summary with paired statistics")
    rep.add_argument("--models", nargs="+", help="a subset of the registry (default: every model)")
    rep.add_argument("--seeds", type=int, default=DEFAULT_SEEDS,
                     help=f"seeds 0..N-1 per configuration (default {DEFAULT_SEEDS})")
    rep.add_argument("--resnet-seeds", type=int, help="seeds for the 46.7M-parameter resnet (default 3)")
    rep.add_argument("--datasets", nargs="+", default=["mnist"], help="mnist and/or fashion_mnist")
    rep.add_argument("--profile", choices=PROFILES, default="full")
    rep.add_argument("--out", default=str(STUDY_OUT))
    rep.add_argument("--data", help="folder holding MNIST's four IDX files (default: $MNIST_DATA, data/, download)")
    rep.add_argument("--device", help="cpu, cuda or cuda:N (default: CUDA when present)")
    rep.add_argument("--quiet", action="store_true", help="no progress bar")
    rep.add_argument("--compare-with", help="another study's folder (e.g. results/full for the GPU's runs in "
                                            "results/gpu): the summary says whether the device changes the verdict")
    fast_paths(rep)
    rep.add_argument("--summary-only", action="store_true",
                     help="train nothing: rewrite the summary from the runs finished so far")
    rep.add_argument("--wait", action="store_true", help=WAIT_HELP)
    rep.set_defaults(func=cmd_reproduce)

    ben = sub.add_parser("bench", help="time pytorch/examples' DataLoader pipeline against the course's eager "
                                       "and fast device-resident paths")
    ben.add_argument("--models", nargs="+", help="models to time (default: shao_cnn)")
    ben.add_argument("--device", help="cpu, cuda or cuda:N (default: CUDA when present)")
    ben.add_argument("--subset", type=int, help="train on the first N training images (CPU)")
    ben.add_argument("--epochs", type=int, help="epochs per path (default 8 on a GPU, 3 on the CPU)")
    ben.add_argument("--batch-size", type=int, help="one batch size for every model (default: each model's full recipe's)")
    ben.add_argument("--workers", type=int, nargs="+", default=[0, 4], help="DataLoader workers to time")
    ben.add_argument("--improved", action=argparse.BooleanOptionalAction, default=None,
                     help="also train Shao's improved recipe end to end on the fast path (default: on a GPU)")
    ben.add_argument("--out", help="write bench.json, bench.csv and bench.md here (e.g. results/bench)")
    ben.set_defaults(func=cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        args.func(args)
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    except subprocess.CalledProcessError as exc:
        print(f"mnistlib: error: {' '.join(map(str, exc.cmd[:2]))} failed with exit code {exc.returncode} "
              f"(its output is above)", file=sys.stderr)
        return EXIT_FAILURE
    except (DataError, ValueError, KeyError, FileExistsError, FileNotFoundError, RuntimeError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"mnistlib: error: {message}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("mnistlib: interrupted; rerun the same command with --resume to continue", file=sys.stderr)
        return 130
    return 0
