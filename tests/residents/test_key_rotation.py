from __future__ import annotations

import base64
import io
import os

import pytest
from django.core.management import call_command

from gridgov.core import fieldcrypto
from gridgov.residents import protected
from gridgov.residents.models import Household, Resident
from tests.world import T0

pytestmark = pytest.mark.django_db


def test_rotate_field_key_reencrypts_everything_and_search_still_works(world, ledger, monkeypatch):
    from gridgov.access.models import TotpDevice
    from gridgov.access.totp import _PURPOSE

    device = TotpDevice.objects.create(user=world.zhang_wei, created_at=T0,
                                       secret_cipher=fieldcrypto.encrypt("JBSWY3DPEHPK3PXP", purpose=_PURPOSE))
    old = Resident.dangerously_unscoped.get(pk=ledger.wang_wei.pk)
    old_kid = fieldcrypto.sealed_key_id(old.id_cipher)
    previous = base64.b64encode(fieldcrypto.keys().by_id[old_kid]).decode()
    new_key = base64.b64encode(os.urandom(32)).decode()
    monkeypatch.setenv("GRIDGOV_FIELD_KEY", new_key)
    monkeypatch.setenv("GRIDGOV_FIELD_KEYS_PREVIOUS", previous)
    fieldcrypto.reset_keys()
    try:
        out = io.StringIO()
        call_command("rotate_field_key", stdout=out)
        assert "已重新加密" in out.getvalue() and "1 个动态口令设备" in out.getvalue()
        new_kid = fieldcrypto.keys().current_id
        assert new_kid != old_kid
        ciphers = Resident.dangerously_unscoped.values_list("id_cipher", flat=True)
        assert all(fieldcrypto.sealed_key_id(c) == new_kid for c in ciphers)
        assert all(fieldcrypto.sealed_key_id(c) == new_kid
                   for c in Household.dangerously_unscoped.exclude(phone_cipher="").values_list("phone_cipher",
                                                                                                flat=True))
        rotated = Resident.dangerously_unscoped.get(pk=ledger.wang_wei.pk)
        assert protected.reveal_id(rotated.id_cipher) == ledger.wang_wei_id
        assert rotated.id_index == old.id_index  # the index key did not change
        # without the previous key the old ciphertext is unreadable: the data really moved
        monkeypatch.delenv("GRIDGOV_FIELD_KEYS_PREVIOUS")
        fieldcrypto.reset_keys()
        with pytest.raises(fieldcrypto.FieldCryptoError):
            protected.reveal_id(old.id_cipher)
        assert protected.reveal_id(rotated.id_cipher) == ledger.wang_wei_id
        # Authenticator secrets moved too: nobody is locked out when the old key goes.
        device.refresh_from_db()
        assert fieldcrypto.decrypt(device.secret_cipher, purpose=_PURPOSE) == "JBSWY3DPEHPK3PXP"
    finally:
        monkeypatch.undo()
        fieldcrypto.reset_keys()
