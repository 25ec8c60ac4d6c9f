"""
Tests that twistd finds every netref plugin (DESIGN.md, packaging traps).
"""

import os
import sys

from twisted.application.service import IServiceMaker
from twisted.internet.utils import getProcessOutputAndValue
from twisted.plugin import getPlugins
from twisted.trial.unittest import TestCase

from twisted.plugins import netref_plugins

#: Runs twistd with the interpreter of the environment under test.
TWISTD = "import sys; from twisted.scripts.twistd import run; sys.argv[0] = 'twistd'; run()"


def definedTapNames() -> set[str]:
    """
    @return: the C{tapname} of every service maker in netref's plugin file.
    """
    return {
        value.tapname for value in vars(netref_plugins).values() if IServiceMaker.providedBy(value)
    }


class PluginTests(TestCase):
    """
    Every service maker in C{twisted/plugins/netref_plugins.py} is a
    C{netref-*} twistd plugin that twistd lists.
    """

    def test_namesFollowTheContract(self) -> None:
        names = definedTapNames()
        self.assertIn("netref-upper", names)
        for name in names:
            self.assertTrue(name.startswith("netref-"), name)

    def test_pluginSystemFindsAll(self) -> None:
        found = {maker.tapname for maker in getPlugins(IServiceMaker)}
        self.assertLessEqual(definedTapNames(), found)

    def test_optionsImport(self) -> None:
        """
        Every plugin's tap module imports and has Options and makeService.
        """
        for value in vars(netref_plugins).values():
            if IServiceMaker.providedBy(value):
                self.assertTrue(callable(value.options), value.tapname)
                self.assertTrue(callable(value.makeService), value.tapname)

    async def test_twistdHelpListsEvery(self) -> None:
        """
        C{twistd --help}, run as a separate process the way a user runs it,
        lists every netref plugin.  This is what fails when the package is
        installed in a way that hides C{twisted/plugins} from twistd.
        """
        env = dict(os.environ)
        env.pop("PYTHONPATH", None)
        out, err, code = await getProcessOutputAndValue(
            sys.executable,
            ["-c", TWISTD, "--help"],
            env=env,
            path="/",
        )
        self.assertEqual(code, 0, err)
        listed = out.decode()
        for name in sorted(definedTapNames()):
            self.assertIn(name, listed)


def _sourceTree() -> str | None:
    """
    @return: the root of the source checkout these tests run from, or None
        when netref is installed from a wheel without its source.
    """
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return root if os.path.exists(os.path.join(root, "setup.cfg")) else None


class InstallModeTests(TestCase):
    """
    Both C{pip install .} and a plain C{pip install -e .} make the plugins
    visible to twistd.  A plain editable install hides them unless
    C{setup.cfg} maps the packages with C{package_dir}: setuptools then
    writes a path C{.pth} rather than an import finder, and twistd finds
    C{twisted/plugins} on C{sys.path}.

    Each test makes a throw-away virtual environment that sees this
    interpreter's packages (Twisted, setuptools) through a C{.pth} file, so
    nothing is downloaded, installs netref into it with pip, and runs
    C{twistd --help} there from C{/}.
    """

    def setUp(self) -> None:
        root = _sourceTree()
        if root is None:
            raise self.skipTest("not running from a source checkout")
        self.root = root

    async def _installAndList(self, *pipArguments: str) -> str:
        import site
        import sysconfig

        venv = os.path.abspath(self.mktemp())
        out, err, code = await getProcessOutputAndValue(
            sys.executable, ["-m", "venv", "--without-pip", venv], env=dict(os.environ)
        )
        self.assertEqual(code, 0, err)
        python = os.path.join(venv, "bin", "python")
        purelib = sysconfig.get_paths(vars={"base": venv, "platbase": venv})["purelib"]
        here = [p for p in site.getsitepackages() if os.path.isdir(p)]
        with open(os.path.join(purelib, "zz_parent.pth"), "w") as f:
            f.write("\n".join(here) + "\n")
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PIP_USER")}
        out, err, code = await getProcessOutputAndValue(
            python,
            [
                "-m",
                "pip",
                "install",
                "-q",
                "--no-deps",
                "--no-build-isolation",
                "--no-index",
                *pipArguments,
                self.root,
            ],
            env=env,
            path="/",
        )
        self.assertEqual(code, 0, err)
        out, err, code = await getProcessOutputAndValue(
            python,
            ["-c", TWISTD, "--help"],
            env=env,
            path="/",
        )
        self.assertEqual(code, 0, err)
        return out.decode()

    async def test_editable(self) -> None:
        listed = await self._installAndList("-e")
        for name in sorted(definedTapNames()):
            self.assertIn(name, listed)

    async def test_regular(self) -> None:
        listed = await self._installAndList()
        for name in sorted(definedTapNames()):
            self.assertIn(name, listed)
