# Copyright (c) mmdepthseg contributors. All rights reserved.
__all__: list = []
