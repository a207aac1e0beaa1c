# Copyright (c) mmdepthseg contributors. All rights reserved.
"""The base of mmdepthseg's dataset classes: the constructor checks they
share, with one wording of each error."""
from typing import Optional

from mmengine.dataset import BaseDataset

from .label_tables import LABEL_LUTS


class BaseDepthSegDataset(BaseDataset):
    """:class:`mmengine.dataset.BaseDataset` with the checks the depth /
    segmentation datasets repeat.

    It adds no state and no constructor: subclasses call the checks from
    their own ``__init__`` (before ``super().__init__``, which loads the
    data list) and :attr:`num_classes_or_none` while building data infos.
    """

    @staticmethod
    def check_img_prefix(data_prefix: dict, example: str) -> None:
        """``data_prefix`` must name the image folder.

        Args:
            data_prefix (dict): The dataset's folders by key.
            example (str): A typical ``img_path`` for the message.

        Raises:
            KeyError: ``'img_path'`` is missing.
        """
        if 'img_path' not in data_prefix:
            raise KeyError(f'data_prefix needs "img_path" (e.g. {example!r})')

    @staticmethod
    def check_label_id_format(fmt: str, name: str = 'label_id_format') -> None:
        """``fmt`` must be ``'trainIds'`` or a registered label table.

        Args:
            fmt (str): The format.
            name (str): The argument's name, for the message.

        Raises:
            ValueError: Naming the format and the known ones.
        """
        if fmt != 'trainIds' and fmt not in LABEL_LUTS:
            raise ValueError(f'unknown {name} {fmt!r}; expected '
                             f"'trainIds' or one of {sorted(LABEL_LUTS)}")

    @staticmethod
    def check_positive_arg(value: float, name: str) -> None:
        """``value`` (a scale, an offset) must be > 0.

        Raises:
            ValueError: ``'<name> must be > 0, got <value>'``.
        """
        if not value > 0:
            raise ValueError(f'{name} must be > 0, got {value}')

    @property
    def num_classes_or_none(self) -> Optional[int]:
        """The number of ``classes`` of the metainfo, None without any
        (the loaders then skip the label range check)."""
        return len(self.metainfo.get('classes', ())) or None
