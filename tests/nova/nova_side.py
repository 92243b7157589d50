# SPDX-License-Identifier: Apache-2.0
"""Run Nova's own attach path on one case, with only the host mocked.

Nova 26 (Debian's python3-nova) and os-brick 6.1 (python3-os-brick) run
unchanged; what needs a host is replaced the way Nova's unit tests replace
it (nova/tests/unit/virt/libvirt/test_driver.py, volume/test_*.py):

- libvirt is fakelibvirt, through Nova's own LibvirtFixture;
- Host.get_guest returns a mock guest whose attach_device records the
  config; Host.find_secret / create_secret use an in-memory store;
- os-brick connectors report the case's data.device_path as the device
  they found; NFS mounts do nothing;
- the key manager returns a fixed 256-bit key; luks.is_luks answers from
  the case ("volume": "luks" or "blank");
- the encryptor os-brick chooses is constructed for real (so its own
  checks run) but its attach_volume / _format_volume only record their
  arguments;
- any attempt to run a command raises.

The metadata goes through os-brick's real get_encryption_metadata (the
mocked Cinder API returns the case's "encryption"), and nova.conf options
are set with oslo.config overrides.
"""

import binascii
import contextlib
import logging
from unittest import mock

import fixtures

from nova import context as nova_context
from nova import objects
from nova.compute import power_state
import nova.conf
from nova.tests.fixtures import libvirt as fakelibvirt
from nova.virt import fake
from nova.virt.libvirt import driver as libvirt_driver
from nova.virt.libvirt import host as libvirt_host
from nova.virt.libvirt.volume import mount as libvirt_mount
from oslo_concurrency import processutils
from oslo_config import cfg
from os_brick.encryptors import cryptsetup as brick_cryptsetup
from os_brick.initiator import connector as brick_connector

CONF = nova.conf.CONF

SECRET_UUID = "2a0c8fe4-5b1e-4d4e-9c3a-6f1b7e2d9a01"
# One state_path for both sides, so nfs_mount_point_base's default
# ($state_path/mnt) agrees unless a case sets it.
STATE_PATH = "/var/lib/nova"
KEY_HEX = "00" * 31 + "2a"  # any 256-bit key: the passphrase is not compared

# A running guest with no disks: what _get_scsi_controller_next_unit reads.
DEFAULT_DOMAIN_XML = (
    "<domain type='kvm'><name>instance-00000001</name><devices/></domain>")

_initialised = False


class CommandRefused(Exception):
    pass


def _refuse(*args, **kwargs):
    raise CommandRefused("oracle: Nova tried to run a command: %r" % (args,))


class _Secret:
    def __init__(self, usage_type, usage_id):
        self.usage_type = usage_type
        self.usage_id = usage_id

    def UUIDString(self):
        return SECRET_UUID


class _Connector:
    """An os-brick connector that "finds" the device the case names."""

    def __init__(self, *args, **kwargs):
        pass

    def connect_volume(self, data):
        path = data.get("device_path")
        if not path:
            raise RuntimeError("oracle: connector found no device "
                               "(case has no data.device_path)")
        return {"path": path, "type": "block"}

    def disconnect_volume(self, *args, **kwargs):
        pass


def initialise():
    global _initialised
    if _initialised:
        return
    # Nova logs every refusal with a traceback; the record says it.
    logging.disable(logging.CRITICAL)
    objects.register_all()
    CONF([], project="nova", default_config_files=[])
    _initialised = True


def _apply_conf(stack, conf):
    """nova.conf options from the case: {"libvirt": {"opt": value}}.

    An option Nova 26 does not have (nvirt's own, or one Nova dropped) is
    left out, as Nova ignores it in nova.conf."""
    CONF.set_override("state_path", STATE_PATH)
    stack.callback(CONF.clear_override, "state_path")
    for group, opts in conf.items():
        for name, value in opts.items():
            grp = None if group == "DEFAULT" else group
            try:
                opt = CONF._get_opt_info(name, grp)["opt"]
            except Exception:
                continue
            if isinstance(value, str) and isinstance(opt, cfg.ListOpt):
                value = [v for v in value.split(",") if v]
            CONF.set_override(name, value, group=grp)
            stack.callback(CONF.clear_override, name, group=grp)


def attach(case):
    """LibvirtDriver.attach_volume on @case; returns the oracle's record."""
    initialise()
    record = {
        "decision": None,
        "encryptor": None,
        "secret_usage": None,
        "disk_xml": None,
        "key_size": None,
        "cipher": None,
        "error": None,
    }
    secrets = {}
    with contextlib.ExitStack() as stack:
        _apply_conf(stack, case.get("conf", {}))
        stack.enter_context(fakelibvirt.LibvirtFixture())
        for target in ("subprocess.Popen", "os.system"):
            stack.enter_context(mock.patch(target, side_effect=_refuse))
        stack.enter_context(mock.patch.object(
            processutils, "execute", side_effect=_refuse))
        stack.enter_context(mock.patch.object(
            brick_connector.InitiatorConnector, "factory",
            side_effect=lambda *a, **k: _Connector()))
        stack.enter_context(mock.patch.object(libvirt_mount, "mount"))
        stack.enter_context(mock.patch.object(libvirt_mount, "umount"))
        stack.enter_context(mock.patch.object(
            brick_cryptsetup.CryptsetupEncryptor,
            "_is_crypt_device_available", return_value=False))

        # Host: secrets in memory, one running guest.
        def find_secret(usage_type, usage_id):
            return secrets.get((usage_type, usage_id))

        def create_secret(usage_type, usage_id, password=None, uuid=None):
            secrets[(usage_type, usage_id)] = _Secret(usage_type, usage_id)
            record["secret_usage"] = usage_id
            return secrets[(usage_type, usage_id)]

        # Guest.attach_device serialises the config first, so XML Nova
        # cannot write fails the attach, as it would for real.
        def attach_device(conf, persistent=False, live=False):
            record["disk_xml"] = conf.to_xml()

        guest = mock.Mock()
        guest.attach_device.side_effect = attach_device
        guest.get_power_state.return_value = power_state.RUNNING
        guest.get_xml_desc.return_value = case.get(
            "domain_xml", DEFAULT_DOMAIN_XML)
        stack.enter_context(mock.patch.object(
            libvirt_host.Host, "find_secret", side_effect=find_secret))
        stack.enter_context(mock.patch.object(
            libvirt_host.Host, "create_secret", side_effect=create_secret))
        stack.enter_context(mock.patch.object(
            libvirt_host.Host, "get_guest", return_value=guest))
        stack.enter_context(mock.patch.object(
            libvirt_host.Host, "supports_amd_sev",
            new_callable=mock.PropertyMock, return_value=False))

        # Key manager and the "is this volume LUKS already" probe.
        key = mock.Mock()
        key.get_encoded.return_value = binascii.unhexlify(KEY_HEX)
        keymgr = mock.Mock()
        keymgr.get.return_value = key
        stack.enter_context(mock.patch.object(
            libvirt_driver.key_manager, "API", return_value=keymgr))
        stack.enter_context(mock.patch.object(
            libvirt_driver.luks_encryptor, "is_luks",
            return_value=case.get("volume", "luks") == "luks"))

        # The encryptor os-brick picks: built for real, used as a recorder.
        real_get_encryptor = libvirt_driver.LibvirtDriver._get_volume_encryptor

        def get_encryptor(self, connection_info, encryption):
            encryptor = real_get_encryptor(self, connection_info, encryption)
            record["encryptor"] = type(encryptor).__name__

            def use(*args, **kwargs):
                record["key_size"] = kwargs.get("key_size")
                record["cipher"] = kwargs.get("cipher")

            # Only what the class has: NoOpEncryptor has no _format_volume,
            # and Nova calling it must fail as it would for real.
            for method in ("attach_volume", "_format_volume"):
                if hasattr(encryptor, method):
                    setattr(encryptor, method, use)
            return encryptor

        stack.enter_context(mock.patch.object(
            libvirt_driver.LibvirtDriver, "_get_volume_encryptor",
            get_encryptor))
        stack.enter_context(mock.patch.object(
            libvirt_driver.LibvirtDriver, "_build_device_metadata",
            return_value=None))

        drvr = libvirt_driver.LibvirtDriver(fake.FakeVirtAPI(), False)
        drvr._volume_api = mock.Mock()
        drvr._volume_api.get_volume_encryption_metadata.return_value = (
            case.get("encryption", {}))

        ctx = nova_context.RequestContext("fake-user", "fake-project")
        instance = objects.Instance(
            uuid="8a3b7c6d-1e2f-4a5b-9c8d-7e6f5a4b3c2d",
            flavor=objects.Flavor(extra_specs={}),
            system_metadata={})
        stack.enter_context(mock.patch.object(
            objects.Instance, "image_meta", new_callable=mock.PropertyMock,
            return_value=objects.ImageMeta.from_dict({})))
        stack.enter_context(mock.patch.object(objects.Instance, "save"))

        try:
            drvr.attach_volume(ctx, case["connection_info"], instance,
                               case["mountpoint"],
                               disk_bus=case.get("disk_bus"),
                               encryption=None)
        except CommandRefused:
            raise
        except Exception as e:  # Nova refused the attach
            record["decision"] = "refused"
            record["disk_xml"] = None
            record["error"] = "%s: %s" % (type(e).__name__, e)
            return record

        if record["secret_usage"] is not None:
            record["decision"] = "native"
        elif record["encryptor"] not in (None, "NoOpEncryptor"):
            record["decision"] = "encryptor"
        else:
            # No encryption metadata, or os-brick's no-op encryptor.
            record["decision"] = "none"
            record["encryptor"] = None
        if record["decision"] == "native":
            # The encryptor Nova built only formatted a blank volume.
            record["encryptor"] = None
        elif record["encryptor"] is None:
            record["key_size"] = record["cipher"] = None
    return record


OPERATIONS = {"attach": attach}


def run(case):
    return OPERATIONS[case.get("operation", "attach")](case)
