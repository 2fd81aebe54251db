// What a device is called, for people. Devices name themselves (DeviceName), user channels carry
// their user's names; when neither is known yet the serial, then the enrollment ID, stand in.

export function deviceLabel(d) {
  return d.device_name || d.user_long_name || d.user_short_name || d.serial_number || d.enrollment_id;
}
