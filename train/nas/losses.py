"""Policy-gradient objectives of the controller (minimised by Adam).

Both take per-sample tensors ``[m]`` for the m children of one update:
the teacher-forced log-probability and entropy of each architecture under the
current controller, and its advantage ``R_k - b`` (reward minus baseline).
"""

from keras import ops


def reinforce_loss(log_prob, entropy, advantage, *, entropy_weight=0.0):
    """REINFORCE with a baseline (Zoph & Le 2016, Sec. 3.2, Eq. 2):

        -(1/m) Σ_k (R_k - b) log P(a_k; θ)  -  β (1/m) Σ_k H_k,

    whose gradient is the paper's estimate with the sign flipped for descent;
    β H is the optional entropy bonus (β = `entropy_weight`)."""
    advantage = ops.stop_gradient(ops.cast(advantage, log_prob.dtype))
    return -ops.mean(advantage * log_prob) - entropy_weight * ops.mean(entropy)


def ppo_loss(log_prob, entropy, advantage, old_log_prob, *, clip=0.2, entropy_weight=0.0):
    """PPO's clipped surrogate (Schulman et al. 2017, arXiv:1707.06347, Eq. 7):

        -(1/m) Σ_k min(r_k A_k, clip(r_k, 1 - ε, 1 + ε) A_k)  -  β (1/m) Σ_k H_k,

    with r_k = P(a_k; θ) / P(a_k; θ_old) = exp(log_prob - old_log_prob),
    A_k = R_k - b and ε = `clip`; the objective Zoph et al. 2018 and NNI's
    PPO tuner moved to."""
    advantage = ops.stop_gradient(ops.cast(advantage, log_prob.dtype))
    ratio = ops.exp(log_prob - ops.stop_gradient(old_log_prob))
    surrogate = ops.minimum(ratio * advantage, ops.clip(ratio, 1 - clip, 1 + clip) * advantage)
    return -ops.mean(surrogate) - entropy_weight * ops.mean(entropy)
