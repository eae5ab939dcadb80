/** A CAN or CAN FD frame as the driver's sources deliver it. */
export interface CanFrame {
  id: number;
  extended: boolean;
  data: Uint8Array;
  fd: boolean;
  remote: boolean;
  /** An error frame: `id` holds the error class bits (linux/can/error.h). */
  error: boolean;
}

/** Error class bit of a bus-off in an error frame's id. */
export const CAN_ERR_BUSOFF = 0x40;

export const frame = (id: number, data: Uint8Array, extended = id > 0x7ff): CanFrame => ({
  id,
  extended,
  data,
  fd: data.length > 8,
  remote: false,
  error: false,
});
