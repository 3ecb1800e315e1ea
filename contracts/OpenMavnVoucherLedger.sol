// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title OpenMavn voucher ledger
/// @notice Mirrors every OpenMavn voucher (issue, transfer, redeem, reverse, expire, refund) and enforces the
/// platform's invariants on chain: only the operator writes, a campaign never exceeds its supply, a voucher that
/// is redeemed, expired or refunded cannot move or be redeemed again, and a balance never goes below zero.
/// @dev Layout and batch encoding are fixed by the ledger specification (issue 5):
/// two vouchers per storage slot (even serial in the low 128 bits, odd serial in the high 128 bits);
/// record bits: holder [0..63], balance [64..95], seq [96..111], status [112..119], reserved [120..127];
/// campaign word: supply [0..31], outstanding [32..63], issued [64..95], faceValue [96..127].
/// Invariant violations never revert a batch: the record is skipped and its result code says why.
contract OpenMavnVoucherLedger {
    /// @notice The caller is not the platform operator.
    error NotOperator();

    /// @notice The batch is truncated, names an unknown operation, or a group's count overruns the batch.
    error MalformedBatch();

    /// @notice The operator account changed.
    event OperatorChanged(address indexed previous, address indexed next);

    /// @notice A batch was applied; one result byte per record, in batch order (0 = applied).
    event BatchApplied(uint64 indexed batchId, bytes results);

    /// @notice A campaign was registered by the first group that named it.
    event CampaignRegistered(bytes16 indexed campaignId, uint32 faceValue, uint32 supply);

    /// @notice A campaign's supply changed.
    event SupplyChanged(bytes16 indexed campaignId, uint32 supply);

    /// @notice The only account allowed to write.
    address public operator;

    mapping(bytes32 => uint256) private _slots;
    mapping(bytes16 => uint256) private _campaigns;

    uint256 private constant M16 = 0xffff;
    uint256 private constant M32 = 0xffffffff;
    uint256 private constant M64 = 0xffffffffffffffff;
    uint256 private constant M128 = 0xffffffffffffffffffffffffffffffff;
    uint256 private constant SEQ_AND_STATUS = uint256(0xffffff) << 96;

    uint256 private constant ACTIVE = 1;
    uint256 private constant REDEEMED = 2;
    uint256 private constant EXPIRED = 3;
    uint256 private constant REFUNDED = 4;

    modifier onlyOperator() {
        if (msg.sender != operator) revert NotOperator();
        _;
    }

    /// @param operator_ The platform operator, the only account that may write.
    constructor(address operator_) {
        operator = operator_;
        emit OperatorChanged(address(0), operator_);
    }

    /// @notice Hands the operator role to another account.
    function setOperator(address next) external onlyOperator {
        emit OperatorChanged(operator, next);
        operator = next;
    }

    /// @notice Applies a packed batch (see the specification) and emits one BatchApplied with a result per record.
    function record(uint64 batchId, bytes calldata batch) external onlyOperator {
        // Every record takes at least 7 bytes, so this bounds the number of results.
        bytes memory results = new bytes(batch.length / 7);
        uint256 n;
        uint256 p;
        uint256 end;
        assembly ("memory-safe") {
            p := batch.offset
            end := add(p, batch.length)
        }
        unchecked {
            while (p < end) {
                if (end - p < 26) revert MalformedBatch();
                uint256 w;
                assembly ("memory-safe") {
                    w := calldataload(p)
                }
                uint256 cidWord = w & ~M128;
                bytes16 cid = bytes16(bytes32(cidWord));
                uint256 supply = (w >> 96) & M32;
                uint256 face = (w >> 64) & M32;
                uint256 count = (w >> 48) & M16;
                p += 26;

                uint256 camp = _campaigns[cid];
                bool campDirty;
                uint256 groupCode;
                {
                    uint256 storedFace = (camp >> 96) & M32;
                    if (storedFace == 0) {
                        if (face == 0 || supply == 0) {
                            groupCode = 9;
                        } else {
                            camp = supply | (face << 96);
                            campDirty = true;
                            emit CampaignRegistered(cid, uint32(face), uint32(supply));
                        }
                    } else if (storedFace != face) {
                        groupCode = 9;
                    } else if ((camp & M32) != supply) {
                        if (supply >= ((camp >> 32) & M32)) {
                            camp = (camp & ~M32) | supply;
                            campDirty = true;
                            emit SupplyChanged(cid, uint32(supply));
                        } else {
                            groupCode = 10;
                        }
                    }
                }

                uint256 cachedHalf = type(uint256).max;
                uint256 cachedSlot;
                uint256 cachedValue;
                bool slotDirty;
                for (uint256 i; i < count; ++i) {
                    if (end - p < 7) revert MalformedBatch();
                    assembly ("memory-safe") {
                        w := calldataload(p)
                    }
                    uint256 op = w >> 248;
                    uint256 len;
                    if (op == 1) len = 31;
                    else if (op == 2) len = 23;
                    else if (op == 3 || op == 4) len = 11;
                    else if (op == 5 || op == 6) len = 7;
                    else revert MalformedBatch();
                    if (end - p < len) revert MalformedBatch();
                    p += len;

                    uint256 code = groupCode;
                    if (code == 0) {
                        uint256 serial = (w >> 216) & M32;
                        uint256 half = serial >> 1;
                        if (half != cachedHalf) {
                            if (slotDirty) {
                                assembly ("memory-safe") {
                                    sstore(cachedSlot, cachedValue)
                                }
                                slotDirty = false;
                            }
                            assembly ("memory-safe") {
                                mstore(0x00, cidWord)
                                mstore(0x10, shl(224, half))
                                mstore(0x00, keccak256(0x00, 0x14))
                                mstore(0x20, _slots.slot)
                                cachedSlot := keccak256(0x00, 0x40)
                                cachedValue := sload(cachedSlot)
                            }
                            cachedHalf = half;
                        }
                        uint256 shift = (serial & 1) << 7;
                        uint256 rec;
                        uint256 nextCamp;
                        (code, rec, nextCamp) = _apply(w, serial, (cachedValue >> shift) & M128, camp, face);
                        if (code == 0) {
                            cachedValue = (cachedValue & ~(M128 << shift)) | (rec << shift);
                            slotDirty = true;
                            if (nextCamp != camp) {
                                camp = nextCamp;
                                campDirty = true;
                            }
                        }
                    }
                    assembly ("memory-safe") {
                        mstore8(add(add(results, 0x20), n), code)
                    }
                    ++n;
                }
                if (slotDirty) {
                    assembly ("memory-safe") {
                        sstore(cachedSlot, cachedValue)
                    }
                }
                if (campDirty) _campaigns[cid] = camp;
            }
        }
        assembly ("memory-safe") {
            mstore(results, n)
        }
        emit BatchApplied(batchId, results);
    }

    /// @notice A campaign's counters (faceValue 0 = not registered).
    function campaign(bytes16 campaignId)
        external
        view
        returns (uint32 supply, uint32 outstanding, uint32 issued, uint32 faceValue)
    {
        uint256 c = _campaigns[campaignId];
        return (uint32(c), uint32(c >> 32), uint32(c >> 64), uint32(c >> 96));
    }

    /// @notice One voucher's record (status 0 = never issued).
    function voucher(bytes16 campaignId, uint32 serial)
        external
        view
        returns (uint64 holder, uint32 balance, uint16 seq, uint8 status)
    {
        uint256 r = _record(campaignId, serial);
        return (uint64(r), uint32(r >> 64), uint16(r >> 96), uint8(r >> 112));
    }

    /// @notice Raw 128-bit records of a run of serials, each in the low bits of its element (for reconciliation).
    function vouchers(bytes16 campaignId, uint32 fromSerial, uint32 count) external view returns (uint256[] memory records) {
        records = new uint256[](count);
        for (uint256 i; i < count; ++i) {
            uint256 serial = uint256(fromSerial) + i;
            if (serial > M32) break;
            records[i] = _record(campaignId, serial);
        }
    }

    /// @notice The custodial holder account of a customer: the first 8 bytes of keccak256("OpenMavn.holder" ++ id).
    function custodialAccount(bytes16 customerId) external pure returns (uint64) {
        return uint64(bytes8(keccak256(abi.encodePacked("OpenMavn.holder", customerId))));
    }

    /// @dev Checks one record against its stored 128-bit record and campaign word, in the specification's order.
    /// Returns the result code and, when it is 0, the new record and campaign word.
    function _apply(uint256 w, uint256 serial, uint256 rec, uint256 camp, uint256 face)
        private
        pure
        returns (uint256 code, uint256, uint256)
    {
        unchecked {
            uint256 op = w >> 248;
            uint256 seq = (w >> 200) & M16;
            uint256 storedSeq = (rec >> 96) & M16;
            uint256 status = (rec >> 112) & 0xff;
            uint256 newStatus = status;
            if (seq <= storedSeq) {
                return (1, rec, camp);
            } else if (seq != storedSeq + 1) {
                return (2, rec, camp);
            } else if (op == 1) {
                uint256 issued = (camp >> 64) & M32;
                uint256 holder = (w >> 8) & M64;
                if (serial != issued || issued == M32) return (2, rec, camp);
                if (((camp >> 32) & M32) >= (camp & M32)) return (6, rec, camp);
                if (holder == 0) return (7, rec, camp);
                rec = holder | (face << 64);
                newStatus = ACTIVE;
                camp += (1 << 64) | (1 << 32);
            } else if (status == 0) {
                return (3, rec, camp);
            } else if (op == 2) {
                uint256 to = (w >> 72) & M64;
                if (status != ACTIVE) return (4, rec, camp);
                if (((w >> 136) & M64) != (rec & M64) || to == 0) return (7, rec, camp);
                rec = (rec & ~M64) | to;
            } else if (op == 3) {
                uint256 amount = (w >> 168) & M32;
                uint256 balance = (rec >> 64) & M32;
                if (status != ACTIVE) return (4, rec, camp);
                if (amount > balance) return (5, rec, camp);
                if (amount == 0) return (8, rec, camp);
                rec -= amount << 64;
                if (amount == balance) newStatus = REDEEMED;
            } else if (op == 4) {
                uint256 amount = (w >> 168) & M32;
                if (status == EXPIRED || status == REFUNDED) return (4, rec, camp);
                if (amount == 0 || ((rec >> 64) & M32) + amount > face) return (8, rec, camp);
                rec += amount << 64;
                newStatus = ACTIVE;
            } else if (status != ACTIVE) {
                return (4, rec, camp);
            } else if (op == 5) {
                newStatus = EXPIRED;
            } else {
                newStatus = REFUNDED;
                rec &= ~(M32 << 64);
                camp -= 1 << 32;
            }
            rec = (rec & ~SEQ_AND_STATUS) | (seq << 96) | (newStatus << 112);
            return (0, rec, camp);
        }
    }

    function _record(bytes16 campaignId, uint256 serial) private view returns (uint256) {
        bytes32 key = keccak256(abi.encodePacked(campaignId, uint32(serial >> 1)));
        return (_slots[key] >> ((serial & 1) << 7)) & M128;
    }
}
