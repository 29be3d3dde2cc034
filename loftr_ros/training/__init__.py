"""Training support for LoFTR: ground-truth supervision, losses, synthetic datasets, evaluation.

Submodules are imported on use (``loftr_ros.training.supervision`` etc.) so that importing the
package stays light.
"""
