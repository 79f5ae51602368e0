"""`cnnlabs data info`, run in-process through the real command-line entry point."""

from __future__ import annotations

from cnnlabs.cli import main


def test_data_info_mnist_on_the_offline_data(shared_mnist, isolated, capsys):
    assert main(["data", "info", "mnist", "--data-dir", str(shared_mnist.parent)]) == 0
    out = capsys.readouterr().out
    assert out == (
        f"mnist: found (10,000 test; no train split here): IDX files in {shared_mnist} (via the "
        "data_dir argument); checksums verified\n"
        "load() gives x_train=None; to train offline, carve a training split explicitly with "
        "data.carve_from_test(n_train)\n"
        "looked in, in order:\n"
        f"  the data_dir argument ({shared_mnist.parent}): test split only, IDX files in "
        f"{shared_mnist}\n"
        "  $CNNLABS_DATA_DIR: not set\n"
        f"  the Keras cache ({isolated / 'datasets'}): does not exist\n"
    )


def test_data_info_cifar10_with_nothing_found(isolated, tmp_path, capsys):
    assert main(["data", "info", "cifar10", "--data-dir", str(tmp_path)]) == 1
    assert capsys.readouterr().out == (
        "cifar10: not found on this machine (load() with download=True would download it)\n"
        "looked in, in order:\n"
        f"  the data_dir argument ({tmp_path}): no CIFAR-10 files in {tmp_path}\n"
        "  $CNNLABS_DATA_DIR: not set\n"
        f"  the Keras cache ({isolated / 'datasets'}): does not exist\n"
        "expected: the folder cifar-10-batches-py/ (data_batch_1 ... data_batch_5, test_batch, "
        "batches.meta) or the archive cifar-10-python.tar.gz, both from "
        "https://www.cs.toronto.edu/~kriz/cifar.html\n"
    )


def test_data_info_names_a_damaged_file(isolated, tmp_path, capsys):
    archive = tmp_path / "cifar-10-python.tar.gz"
    archive.write_bytes(b"\x1f\x8b\x08\x00 definitely not a tarball")
    assert main(["data", "info", "cifar10", "--data-dir", str(tmp_path)]) == 1
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith(f"cifar10: DAMAGED FILE. {archive} is not a readable tar archive (")
    assert first.endswith(
        "). Delete it and download CIFAR-10 again (or copy a good file in its place)."
    )


def test_data_info_for_all_datasets(shared_mnist, isolated, capsys):
    # CIFAR-10/100 are not offline, so the summary exit code is 1.
    assert main(["data", "info", "--data-dir", str(shared_mnist.parent)]) == 1
    heads = [
        line
        for line in capsys.readouterr().out.splitlines()
        if line and not line.startswith((" ", "looked", "expected", "load()"))
    ]
    assert [h.split(":")[0] for h in heads] == ["mnist", "fashion_mnist", "cifar10", "cifar100"]
    assert (
        heads[2]
        == "cifar10: not found on this machine (load() with download=True would download it)"
    )


def test_data_info_unknown_name_is_a_user_error(capsys):
    assert main(["data", "info", "svhn"]) == 2
    assert capsys.readouterr().err == (
        "cnnlabs data info: error: Unknown dataset name='svhn'. Known datasets: mnist, "
        "fashion_mnist, cifar10, cifar100.\n"
    )
