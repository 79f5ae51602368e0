"""Code sent INTO the student's kernel to export answers. Not trusted, never imported by the grader.

The grader sends this file's source to the kernel, then calls
``_cnnlabs_export(manifest_path, question_id)`` once per question. For each case
it writes ``<nonce>_out_<qid>_<k>.json`` (+ ``.npz`` for arrays, or the model's
``.json`` config + ``.weights.h5``). Everything written here is treated as
hostile data by ``autograder.plainio`` on the trusted side: it is decoded with
``allow_pickle=False``, size caps and a strict schema, and only ever compared
against expected values the kernel never sees.
"""


def _cnnlabs_export(manifest_path, question_id):
    import copy
    import json
    import os
    import traceback

    import numpy as np

    from autograder.plainio import decode
    from autograder.plainio import encode as encode_plain
    from cnnlabs.checks.checker import export_model, is_unattempted, student_traceback
    from cnnlabs.checks.plain import PlainDataError, to_plain

    with open(manifest_path) as handle:
        manifest = json.load(handle)
    folder, nonce = os.path.dirname(manifest_path), manifest["nonce"]
    question = manifest["questions"][question_id]
    namespace = get_ipython().user_ns  # noqa: F821 (defined in a kernel)

    def encode(value, arrays):
        try:
            return encode_plain(value, arrays)
        except TypeError as exc:
            raise PlainDataError(str(exc)) from None

    def write(stem, record, arrays):
        if arrays:
            np.savez(os.path.join(folder, stem + ".npz"), **arrays)
        with open(os.path.join(folder, stem + ".json"), "w") as handle:
            json.dump(record, handle)

    answer = namespace.get(question["answer"], Ellipsis)
    missing = question["answer"] not in namespace
    for k, case in enumerate(question["cases"]):
        stem = f"{nonce}_out_{question_id}_{k}"
        record, arrays = {"status": "ok"}, {}
        try:
            if missing or is_unattempted(answer):
                record = {"status": "not_attempted", "missing": missing}
            else:
                inputs = {}
                if case.get("inputs"):
                    in_stem = os.path.join(folder, case["inputs"])
                    in_arrays = {}
                    if os.path.exists(in_stem + ".npz"):
                        with np.load(in_stem + ".npz", allow_pickle=False) as data:
                            in_arrays = {key: data[key] for key in data.files}
                    with open(in_stem + ".json") as handle:
                        inputs = decode(json.load(handle), in_arrays)
                kind = question["kind"]
                if kind == "value":
                    record["value"] = encode(to_plain(answer), arrays)
                elif kind == "function":
                    if not callable(answer):
                        raise PlainDataError(
                            f"{question['answer']} should be a function, got {type(answer).__name__}."
                        )
                    result = answer(**copy.deepcopy(inputs))
                    if result is None or result is Ellipsis:
                        record = {"status": "not_attempted", "missing": False}
                    else:
                        record["value"] = encode(to_plain(result), arrays)
                else:
                    import keras

                    model = answer if isinstance(answer, keras.Model) else answer(**inputs)
                    if is_unattempted(model):
                        record = {"status": "not_attempted", "missing": False}
                    else:
                        export_model(model, folder, stem + "_model")
                        record["model"] = True
        except PlainDataError as exc:
            record, arrays = {"status": "invalid", "message": str(exc)[:2000]}, {}
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: B036 - SystemExit from student code too
            try:
                text = student_traceback(exc)
            except Exception:
                text = traceback.format_exc(limit=3)
            record, arrays = {"status": "error", "traceback": text[-4000:]}, {}
        write(stem, record, arrays)
