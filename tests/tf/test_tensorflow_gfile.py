"""The TF filesystem plugin on the real cluster: tf.io.gfile over hdfs:// and hopsfs://, error
statuses, and TF's own conformance cases (tensorflow/c/experimental/filesystem/
modular_filesystem_test.cc) ported to Python over tf.io.gfile."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest

tf = pytest.importorskip("tensorflow")

from tf_plugin_env import plugin_environment

gfile = tf.io.gfile


@pytest.fixture(scope="module")
def namenode(cluster) -> Iterator[str]:
    with plugin_environment(cluster) as uri:
        yield uri


@pytest.fixture
def root(namenode: str, hdfs_dir: str) -> str:
    """This test's directory as an hdfs://host:port URL."""
    return f"{namenode}{hdfs_dir}"


def write(path: str, data: str, mode: str = "w") -> None:
    with gfile.GFile(path, mode) as f:
        f.write(data)


def read(path: str) -> str:
    with gfile.GFile(path) as f:
        return f.read()


# -- tf.io.gfile ---------------------------------------------------------------------------------


def test_import_registers_and_plain_import_does_not_load_tensorflow(namenode):
    code = (
        "import sys, hopsfs_tools, hopsfs_tools.formats\n"
        "from hopsfs_tools import hdfs\n"
        "assert 'tensorflow' not in sys.modules, 'tensorflow imported'\n"
        "import hopsfs_tools.tensorflow, tensorflow as tf\n"
        f"assert tf.io.gfile.isdir('{namenode}/')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_write_append_read_stat(root):
    write(f"{root}/a.txt", "hello")
    write(f"{root}/a.txt", " world", "a")
    assert read(f"{root}/a.txt") == "hello world"
    stat = gfile.stat(f"{root}/a.txt")
    assert (stat.length, stat.is_directory) == (11, False)
    assert stat.mtime_nsec > 0
    assert gfile.stat(root).is_directory
    write(f"{root}/a.txt", "new")  # "w" replaces
    assert read(f"{root}/a.txt") == "new"


def test_append_creates_a_missing_file(root):
    write(f"{root}/log.txt", "one", "a")
    write(f"{root}/log.txt", "two", "a")
    assert read(f"{root}/log.txt") == "onetwo"


def test_large_binary_round_trip_and_seek(root):
    data = bytes(range(256)) * (40 * 1024 + 7)  # ~10 MiB: several 8 MiB calls each way
    with gfile.GFile(f"{root}/big.bin", "wb") as f:
        f.write(data)
    with gfile.GFile(f"{root}/big.bin", "rb") as f:
        assert f.read() == data
        f.seek(len(data) - 100)
        assert f.read() == data[-100:]
    assert gfile.stat(f"{root}/big.bin").length == len(data)


def test_exists_listdir_glob_walk(root):
    gfile.makedirs(f"{root}/d/e")
    for name in ("d/x.rec", "d/y.rec", "d/z.txt", "d/e/w.rec"):
        write(f"{root}/{name}", name)
    assert gfile.exists(f"{root}/d/x.rec") and not gfile.exists(f"{root}/d/nope")
    assert sorted(gfile.listdir(f"{root}/d")) == ["e", "x.rec", "y.rec", "z.txt"]
    assert sorted(gfile.glob(f"{root}/d/*.rec")) == [f"{root}/d/x.rec", f"{root}/d/y.rec"]
    assert gfile.glob(f"{root}/d/*/*.rec") == [f"{root}/d/e/w.rec"]
    walked = [(top, sorted(dirs), sorted(files)) for top, dirs, files in gfile.walk(f"{root}/d")]
    assert walked == [
        (f"{root}/d", ["e"], ["x.rec", "y.rec", "z.txt"]),
        (f"{root}/d/e", [], ["w.rec"]),
    ]
    assert gfile.isdir(f"{root}/d/e") and not gfile.isdir(f"{root}/d/x.rec")


def test_default_cluster_form_reaches_the_same_files(root, hdfs_dir):
    write(f"{root}/f.txt", "same")
    assert read(f"hdfs://{hdfs_dir}/f.txt") == "same"  # hdfs:///abs: the configured cluster
    assert read(f"hdfs://{hdfs_dir}/./g/../f.txt") == "same"


def test_makedirs_rmtree_rename_copy(root):
    gfile.makedirs(f"{root}/m/n/o")
    gfile.makedirs(f"{root}/m/n/o")  # existing: fine
    write(f"{root}/m/n/o/f", "x")
    write(f"{root}/g", "old")
    gfile.rename(f"{root}/m/n/o/f", f"{root}/g", overwrite=True)
    assert read(f"{root}/g") == "x" and not gfile.exists(f"{root}/m/n/o/f")
    write(f"{root}/h", "h")
    with pytest.raises(tf.errors.AlreadyExistsError):
        gfile.rename(f"{root}/h", f"{root}/g")  # overwrite=False: TF checks first
    gfile.copy(f"{root}/g", f"{root}/h", overwrite=True)
    assert read(f"{root}/h") == "x" and read(f"{root}/g") == "x"
    assert sorted(gfile.listdir(root)) == ["g", "h", "m"]  # no copy temporaries left
    gfile.rename(f"{root}/m", f"{root}/moved")  # a directory, to a new name
    assert gfile.isdir(f"{root}/moved/n/o")
    gfile.rmtree(f"{root}/moved")
    assert not gfile.exists(f"{root}/moved")
    gfile.remove(f"{root}/h")
    assert gfile.listdir(root) == ["g"]


def test_flush_makes_data_visible_while_writing(root):
    with gfile.GFile(f"{root}/events", "w") as f:
        f.write("step 1\n")
        f.flush()  # hflush: readers see it while the file is open
        assert read(f"{root}/events") == "step 1\n"
        f.write("step 2\n")
    assert read(f"{root}/events") == "step 1\nstep 2\n"


# -- errors ----------------------------------------------------------------------------------------


def test_missing_file_is_not_found_naming_the_hdfs_path(root, hdfs_dir):
    with pytest.raises(tf.errors.NotFoundError, match=f"{hdfs_dir}/nope"):
        read(f"{root}/nope")
    with pytest.raises(tf.errors.NotFoundError, match=f"{hdfs_dir}/nope"):
        gfile.stat(f"{root}/nope")
    with pytest.raises(tf.errors.NotFoundError):
        gfile.listdir(f"{root}/nope")


def test_permission_denied_names_the_path(cluster, superuser_client, hdfs_dir):
    superuser_client.mkdirs(f"{hdfs_dir}/private", permission=0o700)
    with plugin_environment(cluster, HADOOP_USER_NAME="mallory") as namenode:
        with pytest.raises(tf.errors.PermissionDeniedError, match=f"{hdfs_dir}/private"):
            gfile.listdir(f"{namenode}{hdfs_dir}/private")
        with pytest.raises(tf.errors.PermissionDeniedError, match=f"{hdfs_dir}/private/f"):
            write(f"{namenode}{hdfs_dir}/private/f", "x")


def test_unreachable_namenode_is_unavailable(namenode):
    with pytest.raises(tf.errors.UnavailableError, match="127.0.0.1:9"):
        gfile.stat("hdfs://127.0.0.1:9/x")


# -- hopsfs:// resolves as the fsspec filesystem ------------------------------------------------


def test_hopsfs_urls_resolve_against_the_project(cluster, superuser_client):
    from hopsfs_tools import HopsFileSystem

    name = f"tfplug{uuid.uuid4().hex[:8]}"
    superuser_client.mkdirs(f"/Projects/{name}/Resources", permission=0o777, create_parent=True)
    superuser_client.set_permission(f"/Projects/{name}", 0o777)
    with plugin_environment(cluster, HOPSFS_PROJECT=name):
        write("hopsfs://Resources/a.txt", "via tf")
        fs = HopsFileSystem(backend="webhdfs", skip_instance_cache=True)  # hdfs-native: in use
        assert fs.cat("hopsfs://Resources/a.txt") == b"via tf"  # the same file for fsspec
        assert read(f"hopsfs:///Projects/{name}/Resources/a.txt") == "via tf"
        assert gfile.listdir("hopsfs://Resources") == ["a.txt"]
        assert gfile.glob("hopsfs://Resources/*.txt") == ["hopsfs://Resources/a.txt"]
        with pytest.raises(tf.errors.InvalidArgumentError, match="hopsfs:///x"):
            gfile.exists("hopsfs://host:8020/x")
    no_project = pytest.raises(tf.errors.FailedPreconditionError, match="no project is set")
    with plugin_environment(cluster), no_project:
        gfile.exists("hopsfs://Resources/a.txt")


# -- TF's conformance cases (modular_filesystem_test.cc), over tf.io.gfile ------------------------
# Each names its C++ test. Not reachable from Python: DeleteDir, FilesExist, memory regions.
# TranslateName differs by design: the plugin keeps scheme and authority (the cluster).
# RenameFileSourceIsDirectory differs: a directory is renamed when the target does not exist,
# as TF's local filesystem does (SavedModel exporters rename temporary directories).
# CreateFileNonExisting and AppendFileNonExisting differ: a new file's missing parents are
# created (Hadoop's create), as TF <= 2.5's HDFS filesystem and tensorflow-io's did.


def test_create_file_conformance(root):
    write(f"{root}/a_file", "")  # TestCreateFile
    write(f"{root}/dir_not_found/a_file", "x")  # TestCreateFileNonExisting: parents made
    assert gfile.isdir(f"{root}/dir_not_found") and read(f"{root}/dir_not_found/a_file") == "x"
    gfile.mkdir(f"{root}/a_dir")
    with pytest.raises(tf.errors.FailedPreconditionError):  # TestCreateFileExistingDir
        write(f"{root}/a_dir", "x")
    with pytest.raises(tf.errors.FailedPreconditionError):  # TestCreateFilePathIsInvalid
        write(f"{root}/a_file/a_file", "x")


def test_append_file_conformance(root):
    write(f"{root}/a_file", "", "a")  # TestAppendFile
    write(f"{root}/dir_not_found/a_file", "x", "a")  # TestAppendFileNonExisting: parents made
    assert read(f"{root}/dir_not_found/a_file") == "x"
    gfile.mkdir(f"{root}/a_dir")
    with pytest.raises(tf.errors.FailedPreconditionError):  # TestAppendFileExistingDir
        write(f"{root}/a_dir", "x", "a")
    write(f"{root}/a_file", "x", "a")  # TestCreateThenAppendFile
    with pytest.raises(tf.errors.FailedPreconditionError):  # TestAppendFilePathIsInvalid
        write(f"{root}/a_file/a_file", "x", "a")


def test_read_file_conformance(root):
    with pytest.raises(tf.errors.NotFoundError):  # TestReadFile
        read(f"{root}/a_file")
    with pytest.raises(tf.errors.NotFoundError):  # TestReadFileNonExisting
        read(f"{root}/dir_not_found/a_file")
    gfile.mkdir(f"{root}/a_dir")
    with pytest.raises(tf.errors.FailedPreconditionError):  # TestReadFileExistingDir
        read(f"{root}/a_dir")
    write(f"{root}/a_file", "")
    assert read(f"{root}/a_file") == ""  # TestCreateThenReadFile
    with pytest.raises(tf.errors.FailedPreconditionError):  # TestReadFilePathIsInvalid
        read(f"{root}/a_file/a_file")


def test_create_dir_conformance(root):
    gfile.mkdir(f"{root}/a_dir")  # TestCreateDir
    with pytest.raises(tf.errors.NotFoundError):  # TestCreateDirNoParent
        gfile.mkdir(f"{root}/dir_not_found/a_dir")
    write(f"{root}/a_file", "")
    # TestCreateDirWhichIsFile, TestCreateDirTwice: the plugin says AlreadyExists, which TF's
    # Python mkdir swallows; the file stays a file.
    gfile.mkdir(f"{root}/a_file")
    gfile.mkdir(f"{root}/a_dir")
    assert not gfile.isdir(f"{root}/a_file") and gfile.isdir(f"{root}/a_dir")
    with pytest.raises(tf.errors.FailedPreconditionError):  # TestCreateDirPathIsInvalid
        gfile.mkdir(f"{root}/a_file/a_dir")


def test_recursively_create_dir_conformance(root):
    gfile.makedirs(f"{root}/a/path/to/a/dir")  # TestRecursivelyCreateDir
    gfile.makedirs(f"{root}/a/path/to/a/another/dir")  # TestRecursivelyCreateDirInATree
    gfile.makedirs(f"{root}/a/path/to/a/dir")  # TestRecursivelyCreateDirTwice
    write(f"{root}/a_file", "")
    with pytest.raises(tf.errors.FailedPreconditionError):  # ...WhichIsFile
        gfile.makedirs(f"{root}/a_file")
    with pytest.raises(tf.errors.FailedPreconditionError):  # ...PathIsInvalid
        gfile.makedirs(f"{root}/a_file/a_dir")
    gfile.makedirs(f"{root}/some/path")
    gfile.makedirs(f"{root}/some/path/that/is/extended")  # ...FromNestedDir
    write(f"{root}/some/path/to_a_file", "")
    with pytest.raises(tf.errors.FailedPreconditionError):  # ...FromNestedFile
        gfile.makedirs(f"{root}/some/path/to_a_file/error")


def test_delete_file_conformance(root):
    write(f"{root}/a_file", "")
    gfile.remove(f"{root}/a_file")  # TestDeleteFile
    gfile.mkdir(f"{root}/a_dir")
    write(f"{root}/a_dir/a_file", "")
    gfile.remove(f"{root}/a_dir/a_file")  # TestDeleteFileFromDirectory
    with pytest.raises(tf.errors.NotFoundError):  # TestDeleteFileDoesNotExist
        gfile.remove(f"{root}/a_file")
    with pytest.raises(tf.errors.FailedPreconditionError):  # TestDeleteFileWhichIsDirectory
        gfile.remove(f"{root}/a_dir")
    write(f"{root}/a_file", "")
    with pytest.raises(tf.errors.FailedPreconditionError):  # TestDeleteFilePathIsInvalid
        gfile.remove(f"{root}/a_file/a_new_file")


def test_delete_recursively_conformance(root):
    gfile.mkdir(f"{root}/empty")
    gfile.rmtree(f"{root}/empty")  # TestDeleteRecursivelyEmpty
    gfile.makedirs(f"{root}/a_dir/another_dir")
    gfile.makedirs(f"{root}/a_dir/yet_another_dir")
    write(f"{root}/a_dir/a_file", "")
    gfile.rmtree(f"{root}/a_dir")  # TestDeleteRecursivelyNotEmpty
    assert not gfile.exists(f"{root}/a_dir")
    with pytest.raises(tf.errors.NotFoundError):  # TestDeleteRecursivelyDoesNotExist
        gfile.rmtree(f"{root}/a_dir")
    write(f"{root}/a_file", "")
    with pytest.raises(tf.errors.FailedPreconditionError):  # ...PathIsInvalid
        gfile.rmtree(f"{root}/a_file/a_dir")
    gfile.rmtree(f"{root}/a_file")  # TestDeleteRecursivelyAFile
    gfile.makedirs(f"{root}/parent/path/that/is/extended")
    gfile.rmtree(f"{root}/parent/path/that")  # TestDeleteRecursivelyANestedDir
    assert gfile.exists(f"{root}/parent/path") and not gfile.exists(f"{root}/parent/path/that")
    write(f"{root}/parent/path/to_a_file", "")
    gfile.rmtree(f"{root}/parent/path/to_a_file")  # TestDeleteRecursivelyANestedFile
    assert gfile.exists(f"{root}/parent/path")


def test_rename_file_conformance(root):
    write(f"{root}/a_file", "asdf")
    gfile.rename(f"{root}/a_file", f"{root}/a_new_file")  # TestRenameFile
    assert not gfile.exists(f"{root}/a_file") and gfile.exists(f"{root}/a_new_file")
    assert gfile.stat(f"{root}/a_new_file").length == 4  # TestRenameFileCompareContents
    write(f"{root}/a_file", "")
    gfile.rename(f"{root}/a_file", f"{root}/a_new_file", overwrite=True)  # ...Overwrite
    assert gfile.stat(f"{root}/a_new_file").length == 0
    with pytest.raises(tf.errors.NotFoundError):  # TestRenameFileSourceNotFound
        gfile.rename(f"{root}/a_file", f"{root}/b_file")
    with pytest.raises(tf.errors.NotFoundError):  # ...DestinationParentNotFound
        gfile.rename(f"{root}/a_new_file", f"{root}/a_dir/a_file")
    gfile.mkdir(f"{root}/a_dir")
    with pytest.raises(tf.errors.FailedPreconditionError):  # TestRenameFileTargetIsDirectory
        gfile.rename(f"{root}/a_new_file", f"{root}/a_dir", overwrite=True)
    with pytest.raises(tf.errors.FailedPreconditionError):  # ...SourcePathIsInvalid
        gfile.rename(f"{root}/a_new_file/x", f"{root}/c_file")
    with pytest.raises(tf.errors.FailedPreconditionError):  # ...TargetPathIsInvalid
        gfile.rename(f"{root}/a_dir", f"{root}/a_new_file/a_new_file")
    assert gfile.stat(f"{root}/a_new_file").length == 0  # failures changed nothing


def test_copy_file_conformance(root):
    write(f"{root}/a_file", "asdf")
    gfile.copy(f"{root}/a_file", f"{root}/a_new_file")  # TestCopyFile, ...CompareContents
    assert gfile.stat(f"{root}/a_file").length == gfile.stat(f"{root}/a_new_file").length == 4
    write(f"{root}/b_file", "")
    gfile.copy(f"{root}/b_file", f"{root}/a_new_file", overwrite=True)  # TestCopyFileOverwrite
    assert gfile.stat(f"{root}/a_new_file").length == 0
    with pytest.raises(tf.errors.NotFoundError):  # TestCopyFileSourceNotFound
        gfile.copy(f"{root}/nope", f"{root}/c_file")
    gfile.mkdir(f"{root}/a_dir")
    with pytest.raises(tf.errors.FailedPreconditionError):  # TestCopyFileSourceIsDirectory
        gfile.copy(f"{root}/a_dir", f"{root}/c_file")
    with pytest.raises(tf.errors.FailedPreconditionError):  # TestCopyFileTargetIsDirectory
        gfile.copy(f"{root}/a_file", f"{root}/a_dir", overwrite=True)
    with pytest.raises(tf.errors.FailedPreconditionError):  # ...SourcePathIsInvalid
        gfile.copy(f"{root}/a_file/x", f"{root}/c_file")
    with pytest.raises(tf.errors.FailedPreconditionError):  # ...TargetPathIsInvalid
        gfile.copy(f"{root}/a_file", f"{root}/a_file/a_new_file")
    assert sorted(gfile.listdir(root)) == ["a_dir", "a_file", "a_new_file", "b_file"]


def test_exists_stat_size_children_conformance(root):
    write(f"{root}/a_file", "asdf")
    gfile.mkdir(f"{root}/a_dir")
    assert gfile.exists(f"{root}/a_file")  # TestFileExists
    assert gfile.exists(f"{root}/a_dir")  # TestFileExistsButIsDirectory
    assert not gfile.exists(f"{root}/not_found")  # TestFileExistsNotFound
    with pytest.raises(tf.errors.FailedPreconditionError):  # TestFileExistsPathIsInvalid
        gfile.exists(f"{root}/a_file/a_new_file")
    write(f"{root}/empty", "")
    assert gfile.stat(f"{root}/empty").length == 0  # TestStatEmptyFile
    assert gfile.stat(f"{root}/a_file").length == 4  # TestStatNonEmptyFile
    assert gfile.stat(f"{root}/a_dir").is_directory  # TestStatDirectory
    with pytest.raises(tf.errors.NotFoundError):  # TestStatNotFound
        gfile.stat(f"{root}/b_dir")
    with pytest.raises(tf.errors.FailedPreconditionError):  # TestStatPathIsInvalid
        gfile.stat(f"{root}/a_file/a_new_file")
    assert gfile.isdir(f"{root}/a_dir")  # TestIsDirectory
    assert not gfile.isdir(f"{root}/a_file")  # TestIsDirectoryFile
    assert not gfile.isdir(f"{root}/b_dir")  # TestIsDirectoryNotFound
    for name in ("x_file", "y_file"):
        write(f"{root}/a_dir/{name}", "")
    for name in ("x_dir", "y_dir"):
        gfile.mkdir(f"{root}/a_dir/{name}")
    children = sorted(gfile.listdir(f"{root}/a_dir"))  # TestGetChildren
    assert children == ["x_dir", "x_file", "y_dir", "y_file"]
    gfile.mkdir(f"{root}/empty_dir")
    assert gfile.listdir(f"{root}/empty_dir") == []  # TestGetChildrenEmpty
    # TestGetChildrenOfFile: TF's Python listdir checks isdir first and says NotFound
    with pytest.raises(tf.errors.NotFoundError, match="a_file"):
        gfile.listdir(f"{root}/a_file")
