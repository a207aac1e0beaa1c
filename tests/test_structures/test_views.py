# Copyright (c) mmdepthseg contributors. All rights reserved.
import pytest

from mmdepthseg.structures import view_names_for_frame_ids


@pytest.mark.parametrize('frame_ids,side,expected', [
    ((0, ), 'l', ('l', )),
    ((0, ), 'r', ('r', )),
    ((0, 's'), 'l', ('l', 'r')),
    ((0, 's'), 'r', ('r', 'l')),
    ((0, -1, 1), 'l', ('t', 't-1', 't+1')),
    ((0, -1, 1, 's'), 'r', ('t', 't-1', 't+1', 's')),
    ((0, 2), 'l', ('t', 't+2')),
])
def test_view_names_for_frame_ids(frame_ids, side, expected):
    assert view_names_for_frame_ids(frame_ids, side) == expected
