"""`roi_poolers`: the RoI poolers of an FPN detector, as constructor arguments."""

from keras_zoo.layers.multi_level_roi_align import MultiLevelRoIAlign

BOX_POOL_SIZE = 7  # FPN Sec. 4.2 / Mask R-CNN Fig. 4: 7x7 box features
MASK_POOL_SIZE = 14  # Mask R-CNN Fig. 4 right: 14x14 mask features, 28x28 masks
POOLED_LEVELS = (2, 3, 4, 5)  # FPN Sec. 4.2: RoIs are pooled from P2..P5


def roi_poolers(*, masks=True, aligned=True, use_roi_align=True, sampling_ratio=2):
    """``{"box_roi_pool": ..., "mask_roi_pool": ...}``: `layers.MultiLevelRoIAlign`
    poolers of 7x7 (and with `masks` 14x14) on P2..P5, for `FasterRCNN` / `MaskRCNN`.

    Args:
        masks: include the mask branch's pooler.
        aligned: RoIAlign's -0.5 pixel shift (the paper's exact alignment); torchvision's
            detection weights were trained with False.
        use_roi_align: False pools with RoIPool (Mask R-CNN's Table 2c ablation).
        sampling_ratio: samples per bin and axis (2, Mask R-CNN Sec. 3).
    """
    def pooler(size, name):
        return MultiLevelRoIAlign(size, sampling_ratio=sampling_ratio, aligned=aligned,
                                  use_roi_align=use_roi_align, levels=POOLED_LEVELS, name=name)

    poolers = {"box_roi_pool": pooler(BOX_POOL_SIZE, "box_roi_pool")}
    if masks:
        poolers["mask_roi_pool"] = pooler(MASK_POOL_SIZE, "mask_roi_pool")
    return poolers
