"""The loftr_localizer node: a thin lifecycle adapter from ROS messages to the localization core.

Lifecycle (managed) node, as nav2's are: configure loads the weights and the map, activate starts the
subscriptions, publications and the worker, deactivate stops them, cleanup releases the map; ``autostart``
(default true) runs configure and activate at start. Callbacks on the executor only convert and enqueue; a
worker thread takes the newest synchronised frame from a one-slot buffer and runs the core, so the executor
never blocks and stale frames are dropped (and counted). Every output carries the input image's stamp.
On SIGINT/SIGTERM the executor stops first, then the worker finishes or drops its frame, then the map closes.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import Pose, PoseStamped, PoseWithCovarianceStamped
from nav_msgs.msg import Odometry
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.clock import Clock, ClockType
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from rclpy.qos import qos_profile_sensor_data
from rclpy.qos_overriding_options import QoSOverridingOptions
from rclpy.signals import SignalHandlerOptions
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from std_msgs.msg import Header
from std_srvs.srv import Trigger

from loftr_ros import conversions
from loftr_ros.bags import topics
from loftr_ros.config import LocalizerNodeConfig
from loftr_ros.errors import ConversionError, LoftrRosError, MapError
from loftr_ros.localization import CameraIntrinsics, LocalizationResult, LocalizationState
from loftr_ros.localization.live_mapping import LiveMapper
from loftr_ros.localization.localizer import Localizer
from loftr_ros.localization.store import KeyframeStore
from loftr_ros.localization.tracking import CameraMount, Fix, Tracker
from loftr_ros.matchers import create_matcher
from loftr_ros.msg import Keyframe as KeyframeMsg
from loftr_ros.msg import LocalizationStatus, Matches
from loftr_ros.node.frame_sync import LatestSlot, StampPairer
from loftr_ros.node.parameters import NodeParameters
from loftr_ros.node.stats import NodeStats
from loftr_ros.node.stop import StopRequest
from loftr_ros.srv import SaveMap
from loftr_ros.transforms import make_transform, quaternion_to_matrix
from loftr_ros.visualization import draw_matches

try:  # tf2_ros is part of every ROS 2 distribution, but not of the PyPI wheels
    from geometry_msgs.msg import TransformStamped
    from tf2_ros import TransformBroadcaster
except ImportError:
    TransformBroadcaster = None

# lets users set the sensor topics' QoS in the parameter file (read at start)
SENSOR_QOS_OVERRIDES = QoSOverridingOptions.with_default_policies()
SUCCESS, FAILURE = TransitionCallbackReturn.SUCCESS, TransitionCallbackReturn.FAILURE


@dataclass
class Frame:
    """One synchronised query: the image and what the core needs with it."""

    header: Header
    stamp_ns: int
    image: np.ndarray
    intrinsics: CameraIntrinsics
    depth: np.ndarray | None = None
    convert_s: float = 0.0  # time spent decoding the messages
    enqueued_at: float = 0.0  # time.perf_counter() when it entered the one-slot buffer


class LocalizerNode(LifecycleNode):
    """Relocalizes camera images against the keyframe map; see the README for topics and parameters."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("loftr_localizer", **kwargs)
        self.parameters = NodeParameters(self, on_change=self._reconfigure)
        settings = self.parameters.config.node
        self.get_logger().info(summary(self.parameters.config))
        self.get_logger().debug(f"configuration: {self.parameters.config}")
        self.stats = NodeStats()
        self.lifecycle_state = "unconfigured"
        self._core_lock = threading.Lock()  # the worker and the map callbacks share the localizer
        self.store: KeyframeStore | None = None
        self.localizer: Localizer | None = None
        self.tracker: Tracker | None = None
        self.mapper: LiveMapper | None = None  # with mapping.enabled: keyframes from the trusted poses

        tolerance_ns = int(settings.camera_info_tolerance_s * 1e9)
        self._pairer: StampPairer[Image | CompressedImage, CameraInfo] = StampPairer(
            tolerance_ns, settings.pending_image_timeout_s
        )
        self._depth_pairer: StampPairer[None, np.ndarray] = StampPairer(tolerance_ns, settings.pending_image_timeout_s)
        self._sync_lock = threading.Lock()
        self._slot: LatestSlot[Frame] = LatestSlot()
        self._worker: threading.Thread | None = None
        self._stopping = threading.Event()  # set while the worker must stop: a frame in flight is dropped
        self._inputs: list[Any] = []  # subscriptions, created on activate
        self._map_services: list[Any] = []  # map services, created on configure
        self._outputs: list[Any] = []  # lifecycle publishers: they publish only while active
        self._tf = None

        # Diagnostics in every state, on wall time: they keep coming under use_sim_time before /clock does.
        self._diagnostics_pub = self.create_publisher(DiagnosticArray, "/diagnostics", 10)
        self._steady = Clock(clock_type=ClockType.STEADY_TIME)
        self._diagnostics_timer = self.create_timer(
            settings.diagnostics_period_s, self._publish_diagnostics, clock=self._steady
        )

    # -- lifecycle --------------------------------------------------------------------------------------

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        config = self.parameters.config
        settings = config.node
        store = None
        try:
            if settings.map_path and not settings.create_map and not Path(settings.map_path).exists():
                raise MapError(f"map file {settings.map_path} does not exist (a typo? set create_map: true to start "
                               "a new map there)")  # fmt: skip
            store = KeyframeStore(settings.map_path, config.localizer.store) if settings.map_path else None
            localizer = Localizer(store if store is not None else [], create_matcher(config.matcher), config.localizer)
        except LoftrRosError as error:
            if store is not None:
                store.close()
            self.get_logger().error(f"configure failed: {error}")
            return FAILURE
        except KeyboardInterrupt:  # stopped while starting (StopRequest): leave no map open
            if store is not None:
                store.close()
            raise
        with self._core_lock:
            self.store, self.localizer = store, localizer
        T_camera_base = make_transform(
            quaternion_to_matrix(settings.camera_to_base[3:]), np.asarray(settings.camera_to_base[:3])
        )
        mount = CameraMount(T_camera_base, publish_base=bool(settings.base_frame))
        self.tracker = Tracker(mount)
        mapping = config.mapping
        self.mapper = (
            LiveMapper(mount, mapping.min_distance_m, mapping.min_rotation_deg, mapping.max_pose_gap_s)
            if mapping.enabled
            else None
        )
        self.get_logger().info(f"map: {len(localizer)} keyframes ({settings.map_path or 'in memory'})")

        self._pose_pub = self.create_lifecycle_publisher(PoseWithCovarianceStamped, "~/pose", 10)
        self._matches_pub = self.create_lifecycle_publisher(Matches, "~/matches", 10)
        self._status_pub = self.create_lifecycle_publisher(LocalizationStatus, "~/status", 10)
        self._debug_pub = self.create_lifecycle_publisher(Image, "~/debug_image", qos_profile_sensor_data)
        self._outputs = [self._pose_pub, self._matches_pub, self._status_pub, self._debug_pub]
        if settings.publish_tf:
            if TransformBroadcaster is None:
                self.get_logger().warn("publish_tf is set but tf2_ros is not installed; no map->odom transform")
            else:
                self._tf = TransformBroadcaster(self)
        map_group = MutuallyExclusiveCallbackGroup()
        self._map_services = [
            self.create_service(SaveMap, "~/save_map", self._save_map, callback_group=map_group),
            self.create_service(Trigger, "~/clear_map", self._clear_map, callback_group=map_group),
            self.create_service(Trigger, "~/add_keyframe", self._add_current_keyframe, callback_group=map_group),
        ]
        self.lifecycle_state = "inactive"
        return SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        settings = self.parameters.config.node
        image_type = CompressedImage if settings.image_transport == "compressed" else Image
        image_topic = f"{topics.IMAGE}/compressed" if settings.image_transport == "compressed" else topics.IMAGE
        # e.g. `qos_overrides./camera/image.subscription.reliability: reliable` for a replay that must not drop
        sensor = {"qos_profile": qos_profile_sensor_data, "qos_overriding_options": SENSOR_QOS_OVERRIDES}
        map_group = MutuallyExclusiveCallbackGroup()
        self._inputs = [
            self.create_subscription(image_type, image_topic, self._on_image, **sensor),
            self.create_subscription(CameraInfo, topics.CAMERA_INFO, self._on_camera_info, **sensor),
            self.create_subscription(
                KeyframeMsg, topics.KEYFRAMES, self._on_keyframe, topics.KEYFRAME_QOS, callback_group=map_group
            ),
            self.create_subscription(PoseWithCovarianceStamped, "initialpose", self._on_initial_pose, 10),
            self.create_subscription(Odometry, topics.ODOM, self._on_odometry, 50),
        ]
        if settings.use_depth:
            self._inputs.append(self.create_subscription(Image, topics.DEPTH, self._on_depth, **sensor))
        if self.mapper is not None:
            self._inputs.append(self.create_subscription(PoseStamped, "mapping_pose", self._on_mapping_pose, 50))
        self._stopping.clear()
        self._slot = LatestSlot()
        self._worker = threading.Thread(target=self._work, name="loftr_localizer_worker", daemon=True)
        self._worker.start()
        self.lifecycle_state = "active"
        self._waiting_on = f"{self._inputs[0].topic_name} and {self._inputs[1].topic_name}"
        self.get_logger().info(f"active: waiting for images on {self._waiting_on}")
        self._nothing_yet_timer = self.create_timer(5.0, self._warn_while_nothing_came, clock=self._steady)
        return super().on_activate(state)

    def _warn_while_nothing_came(self) -> None:
        """Every few seconds until the first frame: say what the node waits on, so a wrong topic shows."""
        if self.stats.counts["received_images"] or self.lifecycle_state != "active":
            self.destroy_timer(self._nothing_yet_timer)
            return
        self.get_logger().warn(f"no image received yet on {self._waiting_on} (check the topic names and QoS)")

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._stop_inputs()
        self.lifecycle_state = "inactive"
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._release()
        self.lifecycle_state = "unconfigured"
        return SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        self.close()
        self.lifecycle_state = "finalized"
        return SUCCESS

    def _stop_inputs(self) -> None:
        """No new input; the worker finishes or drops the frame it holds."""
        for subscription in self._inputs:
            self.destroy_subscription(subscription)
        self._inputs = []
        self._stopping.set()
        self._slot.close()
        if self._worker is not None:
            self._worker.join()
            self._worker = None

    def _release(self) -> None:
        for service in self._map_services:
            self.destroy_service(service)
        for publisher in self._outputs:
            self.destroy_lifecycle_publisher(publisher)
        self._map_services, self._outputs, self._tf = [], [], None
        with self._core_lock:
            store, self.store, self.localizer, self.tracker, self.mapper = self.store, None, None, None, None
        if store is not None:
            store.close()

    def close(self) -> None:
        """Stop input and the worker, then close the map: call after the executor has stopped."""
        self._stop_inputs()
        self._release()

    # -- input ----------------------------------------------------------------------------------------

    def _reject(self, category: str, error: Exception | str) -> None:
        self.stats.reject(category)
        self.get_logger().warn(f"rejected {category}: {error}", throttle_duration_sec=2.0)

    def _on_camera_info(self, msg: CameraInfo) -> None:
        with self._sync_lock:
            ready = self._pairer.add_info(conversions.stamp_to_ns(msg.header.stamp), msg)
        for info, image in ready:
            self._enqueue(image, info)

    def _on_image(self, msg: Image | CompressedImage) -> None:
        self.stats.count("received_images")
        with self._sync_lock:
            pair = self._pairer.add_image(conversions.stamp_to_ns(msg.header.stamp), msg)
            expired = self._pairer.expire()
        if expired:
            self.stats.count("skipped_no_camera_info", len(expired))
            self.get_logger().warn(
                f"{len(expired)} image(s) skipped: no camera_info within the tolerance", throttle_duration_sec=2.0
            )
        if pair is not None:
            self._enqueue(pair[1], pair[0])

    def _on_depth(self, msg: Image) -> None:
        try:
            depth = conversions.depth_to_metres(msg, self.parameters.config.node.max_image_pixels)
        except ConversionError as error:
            self._reject("depth", error)
            return
        with self._sync_lock:
            self._depth_pairer.add_info(conversions.stamp_to_ns(msg.header.stamp), depth)

    def _enqueue(self, msg: Image | CompressedImage, info: CameraInfo) -> None:
        convert_started = time.perf_counter()
        stamp_ns = conversions.stamp_to_ns(msg.header.stamp)
        try:
            image = conversions.image_for_matching(msg, self.parameters.config.node.max_image_pixels)
            intrinsics = conversions.camera_info_to_intrinsics(info)
        except ConversionError as error:
            self._reject("image", error)
            self._publish_status(LocalizationResult(LocalizationState.REJECTED, reason=str(error)), msg.header)
            return
        if image.shape[:2] != (intrinsics.height, intrinsics.width):
            reason = (
                f"camera_info is {intrinsics.width}x{intrinsics.height} but the image is"
                f" {image.shape[1]}x{image.shape[0]}"
            )
            self._reject("camera_info_size", reason)
            self._publish_status(LocalizationResult(LocalizationState.REJECTED, reason=reason), msg.header)
            return
        depth = None
        if self.parameters.config.node.use_depth:
            with self._sync_lock:
                depth = self._depth_pairer.nearest_info(stamp_ns)
        now = time.perf_counter()
        dropped = self._slot.put(Frame(msg.header, stamp_ns, image, intrinsics, depth, now - convert_started, now))
        if dropped is not None:
            self.stats.count("dropped")

    def _on_keyframe(self, msg: KeyframeMsg) -> None:
        try:
            keyframe = conversions.keyframe_from_msg(msg)
        except ConversionError as error:
            self._reject("keyframe", error)
            return
        if keyframe.frame_id != self.parameters.config.node.map_frame:
            self._reject("keyframe", f"keyframe '{keyframe.id}' is in frame '{keyframe.frame_id}', not the map frame")
            return
        with self._core_lock:
            if self.localizer is None:
                return  # cleaned up meanwhile
            self.localizer.add_keyframe(keyframe, replace=True)
            count = len(self.localizer)
        self.stats.count("keyframes_received")
        self.get_logger().info(f"keyframe '{keyframe.id}' added ({count} in the map)")

    def _pose_in_map(self, pose: Pose, header: Header, category: str) -> np.ndarray | None:
        """T_map_target of a pose message given in the map frame; None (rejected, with the reason) otherwise."""
        try:
            T_map_target = conversions.pose_to_matrix(pose)
        except ConversionError as error:
            self._reject(category, error)
            return None
        if header.frame_id and header.frame_id != self.parameters.config.node.map_frame:
            self._reject(category, f"{category} is in frame '{header.frame_id}', not the map frame")
            return None
        return T_map_target

    def _on_initial_pose(self, msg: PoseWithCovarianceStamped) -> None:
        T_map_target = self._pose_in_map(msg.pose.pose, msg.header, "initialpose")
        if T_map_target is not None and self.tracker is not None:
            self.tracker.set_initial_pose(T_map_target, time.monotonic())
            self.get_logger().info("initial pose received; used as the prior")

    def _on_odometry(self, msg: Odometry) -> None:
        try:
            T_odom_base = conversions.pose_to_matrix(msg.pose.pose)
        except ConversionError as error:
            self._reject("odometry", error)
            return
        if self.tracker is not None:
            self.tracker.add_odometry(conversions.stamp_to_ns(msg.header.stamp), T_odom_base)

    def _on_mapping_pose(self, msg: PoseStamped) -> None:
        T_map_target = self._pose_in_map(msg.pose, msg.header, "mapping_pose")
        mapper = self.mapper
        if T_map_target is not None and mapper is not None:
            mapper.add_pose(conversions.stamp_to_ns(msg.header.stamp), T_map_target)

    # -- the worker -------------------------------------------------------------------------------------

    def _work(self) -> None:
        while not self._stopping.is_set():
            frame = self._slot.take(timeout_s=0.5)
            if frame is None:
                continue
            try:
                self._process(frame)
            except LoftrRosError as error:
                self._reject("frame", error)
            except Exception as error:  # the worker must outlive any one frame
                if self._stopping.is_set() or not self.context.ok():
                    self.get_logger().debug(f"frame {frame.stamp_ns} dropped at shutdown: {error!r}")
                    return
                self.stats.count("errors")
                self.get_logger().error(f"frame {frame.stamp_ns} failed: {error!r}")

    def _process(self, frame: Frame) -> None:
        started = time.perf_counter()
        timeout_s = self.parameters.config.node.prior_timeout_s
        with self._core_lock:
            if self.localizer is None or self.tracker is None:
                return
            prior = self.tracker.prior(frame.stamp_ns, time.monotonic(), timeout_s)
            result = self.localizer.localize(frame.image, frame.intrinsics, frame.stamp_ns, prior=prior)
        if self._stopping.is_set():
            self.get_logger().debug(f"frame {frame.stamp_ns} dropped: the node is stopping")
            return
        # the node's own stages first, so a status tells where all the time of a frame went
        result.timings = {"convert": frame.convert_s, "queue": started - frame.enqueued_at, **result.timings}
        self._publish(frame, result)
        self._map(frame)
        latency = None
        if result.localized:
            latency = (self.get_clock().now().nanoseconds - frame.stamp_ns) * 1e-9
            self.stats.count("localized")
        self.stats.processed(time.perf_counter() - started, result.state.name, result.reason, latency)

    def _map(self, frame: Frame) -> None:
        """With mapping enabled: the frame becomes a keyframe when the trusted pose says it moved enough."""
        mapper = self.mapper
        if mapper is None:
            return
        map_frame = self.parameters.config.node.map_frame
        keyframe = mapper.keyframe_for(frame.stamp_ns, frame.image, frame.intrinsics, frame.depth, map_frame)
        if keyframe is None:
            return
        with self._core_lock:
            if self.localizer is None:
                return
            self.localizer.add_keyframe(keyframe, replace=True)
            count = len(self.localizer)
        self.stats.count("keyframes_mapped")
        self.get_logger().info(f"keyframe '{keyframe.id}' added from the trusted pose ({count} in the map)")

    def _publish(self, frame: Frame, result: LocalizationResult) -> None:
        config = self.parameters.config.node
        tracker = self.tracker
        if result.localized and result.T_map_camera is not None and tracker is not None:
            header = Header(stamp=frame.header.stamp, frame_id=config.map_frame)
            target = tracker.mount.target_from_camera(result.T_map_camera)
            covariance = tracker.mount.target_covariance(result.T_map_camera, result.covariance)
            self._pose_pub.publish(conversions.pose_with_covariance_msg(target, covariance, header))
            fix = Fix(frame.stamp_ns, frame.image, frame.intrinsics, result.T_map_camera, frame.depth)
            T_map_odom = tracker.record_fix(fix)
            if T_map_odom is not None and self._tf is not None:
                self._broadcast_map_to_odom(frame.header, T_map_odom)
        for match_set in result.matches:
            self._matches_pub.publish(conversions.matches_to_msg(match_set, frame.header))
        self._publish_status(result, frame.header)
        if self._debug_pub.get_subscription_count() > 0 and result.matches:
            self._publish_debug_image(frame, result)

    def _publish_status(self, result: LocalizationResult, header: Header) -> None:
        self._status_pub.publish(conversions.status_to_msg(result, header))

    def _publish_debug_image(self, frame: Frame, result: LocalizationResult) -> None:
        best = max(result.matches, key=lambda m: (m.num_inliers, len(m)))
        with self._core_lock:
            if self.localizer is None:
                return
            keyframe = self.localizer.keyframe(best.keyframe_id)
        drawing = draw_matches(frame.image, keyframe.image, best.keypoints_query, best.keypoints_keyframe,
                               best.confidence, best.inliers)  # fmt: skip
        self._debug_pub.publish(conversions.rgb_to_image(drawing, frame.header))

    def _broadcast_map_to_odom(self, image_header: Header, T_map_odom: np.ndarray) -> None:
        config = self.parameters.config.node
        transform = TransformStamped()
        transform.header = Header(stamp=image_header.stamp, frame_id=config.map_frame)
        transform.child_frame_id = config.odom_frame
        transform.transform = conversions.matrix_to_transform(T_map_odom)
        self._tf.sendTransform(transform)

    # -- services and diagnostics -----------------------------------------------------------------------

    def _save_map(self, request: SaveMap.Request, response: SaveMap.Response) -> SaveMap.Response:
        path = request.path or self.parameters.config.node.map_path
        if not path:
            response.message = "no path given and the map_path parameter is empty"
            return response
        try:
            with self._core_lock:
                if self.localizer is None:
                    response.message = "the node is not configured"
                    return response
                response.num_keyframes = self.localizer.save(Path(path))
        except LoftrRosError as error:
            response.message = str(error)
            return response
        except Exception as error:  # a service must answer, never take the node down
            self.get_logger().error(f"save_map to {path!r} failed: {error!r}")
            response.message = f"could not save the map to {path}: {error}"
            return response
        response.success = True
        response.message = f"saved {response.num_keyframes} keyframes to {path}"
        return response

    def _clear_map(self, request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        with self._core_lock:
            if self.localizer is None:
                response.message = "the node is not configured"
                return response
            removed = self.localizer.clear()
        response.success, response.message = True, f"removed {removed} keyframes"
        return response

    def _add_current_keyframe(self, request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        tracker = self.tracker
        if tracker is None:
            response.message = "the node is not configured"
            return response
        try:
            keyframe = tracker.keyframe_from_last_fix(self.parameters.config.node.map_frame)
        except LoftrRosError as error:
            response.message = str(error)
            return response
        with self._core_lock:
            if self.localizer is None:
                response.message = "the node is not configured"
                return response
            self.localizer.add_keyframe(keyframe, replace=True)
        response.success, response.message = True, f"added keyframe '{keyframe.id}'"
        return response

    def _publish_diagnostics(self) -> None:
        values = self.stats.snapshot()
        values["lifecycle_state"] = self.lifecycle_state
        with self._core_lock:
            if self.localizer is not None:
                values["keyframes"] = str(len(self.localizer))
        worker = self._worker
        array = conversions.diagnostics_msg(
            name=f"{self.get_name()}: localization",
            hardware_id=self.get_fully_qualified_name(),
            values=values,
            stamp=self.get_clock().now().to_msg(),
            worker_alive=worker is None or worker.is_alive(),
        )
        self._diagnostics_pub.publish(array)

    def _reconfigure(self, config: LocalizerNodeConfig) -> None:
        with self._core_lock:
            if self.localizer is not None:
                self.localizer.reconfigure(config.localizer)
            if self.mapper is not None:
                self.mapper.reconfigure(config.mapping.min_distance_m, config.mapping.min_rotation_deg,
                                        config.mapping.max_pose_gap_s)  # fmt: skip
        tolerance_ns = int(config.node.camera_info_tolerance_s * 1e9)
        with self._sync_lock:
            self._pairer.tolerance_ns = self._depth_pairer.tolerance_ns = tolerance_ns
            self._pairer.pending_timeout_s = config.node.pending_image_timeout_s
            self._depth_pairer.pending_timeout_s = config.node.pending_image_timeout_s
        period_ns = int(config.node.diagnostics_period_s * 1e9)
        if self._diagnostics_timer.timer_period_ns != period_ns:  # a new period takes effect now
            self.destroy_timer(self._diagnostics_timer)
            self._diagnostics_timer = self.create_timer(
                config.node.diagnostics_period_s, self._publish_diagnostics, clock=self._steady
            )


def summary(config: LocalizerNodeConfig) -> str:
    """One line of what matters most at start (the whole configuration is logged at debug level)."""
    matcher, node, localizer = config.matcher, config.node, config.localizer
    weights = f", weights {matcher.weights or 'default'}, side {matcher.max_side}" if matcher.type == "loftr" else ""
    return (
        f"matcher {matcher.type}{weights} on {matcher.device}; map {node.map_path or 'in memory'}; "
        f"{localizer.retrieval.top_k} keyframes per frame, cascade {'on' if localizer.cascade else 'off'}; "
        f"{node.image_transport} images; pose of {node.base_frame or 'the camera'} in {node.map_frame}"
    )


def main(args: list[str] | None = None, stop: StopRequest | None = None) -> int:
    """Run the node until SIGINT/SIGTERM; 1 when it cannot start (the reason is logged)."""
    stop = stop or StopRequest()
    try:
        return _run(args, stop)
    except KeyboardInterrupt:  # a signal while starting: nothing was acknowledged yet
        return 0


def _run(args: list[str] | None, stop: StopRequest) -> int:
    if stop.requested.is_set():  # a signal whose KeyboardInterrupt an import swallowed (weakref callbacks do)
        return 0
    rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)  # StopRequest handles them
    node = None
    executor = MultiThreadedExecutor(num_threads=2)
    try:
        node = LocalizerNode()
        if node.parameters.config.node.autostart:
            if node.trigger_configure() != SUCCESS:
                return 1
            node.trigger_activate()
        executor.add_node(node)
        stop.running = True
        while node.lifecycle_state != "finalized" and not stop.requested.is_set():  # shutdown transition too
            executor.spin_once(timeout_sec=0.25)
    except ExternalShutdownException:
        pass
    except LoftrRosError as error:
        print(f"[loftr_localizer] error: {error}", file=sys.stderr)  # before a logger exists
        return 1
    finally:
        stop.ignore_further()
        executor.shutdown()  # no new callbacks; the running ones (a keyframe being written) finish
        if node is not None:
            node.close()
            node.destroy_node()
        rclpy.try_shutdown()
    return 0
